package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlElementWrapper;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

import java.util.ArrayList;
import java.util.List;

/** {@code <devices>}, each kind in libvirt's formatting order. */
@JsonPropertyOrder({"emulator", "disks", "controllers", "filesystems", "interfaces", "serials", "consoles", "channels",
        "inputs", "graphics", "sounds", "audios", "videos", "redirdevs", "memballoon", "rngs"})
public class Devices {
    @JacksonXmlProperty(isAttribute = false)
    public String emulator;

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "disk")
    public List<DiskDef> disks = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "controller")
    public List<ControllerDef> controllers = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "filesystem")
    public List<FilesystemDef> filesystems = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "interface")
    public List<InterfaceDef> interfaces = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "serial")
    public List<CharDevice> serials = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "console")
    public List<CharDevice> consoles = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "channel")
    public List<CharDevice> channels = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "input")
    public List<InputDef> inputs = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "graphics")
    public List<GraphicsDef> graphics = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "sound")
    public List<SoundDef> sounds = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "audio")
    public List<AudioDef> audios = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "video")
    public List<VideoDef> videos = new ArrayList<>();

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "redirdev")
    public List<RedirDev> redirdevs = new ArrayList<>();

    public MemBalloon memballoon;

    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "rng")
    public List<RngDef> rngs = new ArrayList<>();
}
