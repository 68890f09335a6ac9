package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One image download into a host's cache, as the agent last saw it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ImageDownload {
    @JsonPropertyDescription("The disk (spec.disks[].name) waiting for the image.")
    public String disk;
    @JsonPropertyDescription("The image's URL.")
    public String url;
    @JsonPropertyDescription("Bytes received so far.")
    public Long bytes;
    @JsonPropertyDescription("Bytes the server announced; absent when unknown.")
    public Long totalBytes;

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageDownload x && java.util.Objects.equals(disk, x.disk) && java.util.Objects.equals(url, x.url)
                && java.util.Objects.equals(bytes, x.bytes) && java.util.Objects.equals(totalBytes, x.totalBytes);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(disk, url, bytes, totalBytes);
    }
}
