package io.virtfleet.reconcilers.render;

/**
 * Per-rendering choices the operator makes from the VM's status and history.
 *
 * @param uuid       the domain's SMBIOS UUID (required); see {@link Identity#uuidFor}
 * @param genid      null: follow spec.genid (auto: {@code <genid/>}, a GUID: as given, none: nothing); non-null: this
 *                   GUID, used after a restore, clone or failover (libvirt's {@code <genid>}). spec.genid none stays none.
 * @param openvzCtid OpenVZ only: the container id (its libvirt domain name); null derives one from the uuid
 */
public record RenderOptions(String uuid, String genid, Integer openvzCtid) {
    public RenderOptions(String uuid, String genid) {
        this(uuid, genid, null);
    }
}
