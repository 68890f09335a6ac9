package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.ArrayList;
import java.util.List;

/** What the agent found in its image cache at its last check, and what it last evicted ({@code Host.status}). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HostImageCacheStatus {
    @JsonPropertyDescription("The cache directory on the host.")
    public String path;

    @JsonPropertyDescription("Bytes the cached bases take (after this check's evictions).")
    public Long usedBytes;

    @JsonPropertyDescription("The limit in bytes (spec.imageCache.maxSize); absent: no limit.")
    public Long limitBytes;

    @JsonPropertyDescription("Cached bases (verified images) in the cache.")
    public Integer bases;

    @JsonPropertyDescription("Of those, the bases a disk on this host uses as its backing file, or a Domain of this "
            + "host or a download needs.")
    public Integer basesInUse;

    @JsonPropertyDescription("True when the cache stays over its limit after evicting all it may; message says why.")
    public Boolean overLimit;

    @JsonPropertyDescription("True when the cache is on shared storage (under a shared disk root): then no single host "
            + "evicts from it.")
    public Boolean shared;

    @JsonPropertyDescription("A one-line summary of the last check, e.g. why the cache stays over its limit.")
    public String message;

    @JsonPropertyDescription("When the agent last checked the cache.")
    public String lastCheckTime;

    @JsonPropertyDescription("When the agent last deleted a base.")
    public String lastEvictionTime;

    @JsonPropertyDescription("The bases deleted at lastEvictionTime (file names: <sha256>.<format>).")
    public List<String> lastEvicted = new ArrayList<>();
}
