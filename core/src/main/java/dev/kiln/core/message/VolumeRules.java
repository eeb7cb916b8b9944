package dev.kiln.core.message;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Rules for {@code volumes}: each kind complete, mount points distinct, persistent names safe and unique. */
final class VolumeRules {
    /**
     * The node stores a persistent volume in a file named after it, so the name must not be able
     * to climb out of the owner's directory or collide with a hidden file.
     */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private VolumeRules() {}

    static void check(List<Volume> volumes, Validation v, boolean mountRequired, Map<String, String> mounts) {
        if (volumes == null) return;
        Map<String, String> names = new HashMap<>();
        for (int i = 0; i < volumes.size(); i++) {
            Validation at = v.at(i);
            Volume volume = volumes.get(i);
            if (volume == null) {
                at.fail("must be a volume object, got null");
                continue;
            }
            Mounts.check(volume.mount(), at.at("mount"), mountRequired, mounts);
            switch (volume) {
                case ImmutableVolume im -> immutable(im, at);
                case EphemeralVolume e -> ephemeral(e, at);
                case PersistentVolume p -> persistent(p, at, names);
            }
        }
    }

    private static void immutable(ImmutableVolume volume, Validation at) {
        at.at("ref").required(volume.ref(), "required for an immutable volume: the item hash of the STORE message"
                + " holding its image (or give ephemeral: true / persistence + name for a writable volume)");
        at.at("ref").itemHash(volume.ref());
        foreignFields(volume, at, "immutable (it has ref or use_latest)");
    }

    private static void ephemeral(EphemeralVolume volume, Validation at) {
        if (Boolean.FALSE.equals(volume.ephemeral())) {
            at.at("ephemeral").fail("must be true for an ephemeral volume; for one that outlives the VM give persistence and name");
        }
        Validation size = at.at("size_mib");
        if (size.required(volume.sizeMib(), "required: the size of the scratch volume in MiB")) {
            size.range(volume.sizeMib(), 1, Limits.MAX_EPHEMERAL_MIB, "MiB (ephemeral volumes are scratch space)");
        }
        foreignFields(volume, at, "ephemeral (it has ephemeral or only size_mib)");
    }

    private static void persistent(PersistentVolume volume, Validation at, Map<String, String> names) {
        Validation persistence = at.at("persistence");
        if (persistence.required(volume.persistence(), "required: one of " + String.join(", ", Persistence.WIRE_NAMES))) {
            persistence.oneOf(volume.persistence(), Persistence.WIRE_NAMES);
        }
        Validation name = at.at("name");
        if (name.required(volume.name(), "required: names the volume so the next run finds it again")) {
            if (!NAME.matcher(volume.name()).matches()) {
                name.fail("must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit; got '"
                        + volume.name() + "'");
            } else {
                String previous = names.putIfAbsent(volume.name(), name.path());
                if (previous != null) {
                    name.fail("'" + volume.name() + "' is already used by " + previous + "; both would share one disk");
                }
            }
        }
        Validation size = at.at("size_mib");
        if (size.required(volume.sizeMib(), "required: the size of the volume in MiB")) {
            size.range(volume.sizeMib(), 1, Limits.MAX_PERSISTENT_MIB, "MiB (2 TiB)");
        }
        if (volume.parent() != null) at.at("parent").at("ref").requiredItemHash(volume.parent().ref());
        foreignFields(volume, at, "persistent (it has persistence, name or parent)");
    }

    /** Fields of another volume kind: the user mixed two kinds, and one of them would be ignored. */
    private static void foreignFields(Volume volume, Validation at, String thisKind) {
        for (String field : volume.unknownFields().keySet()) {
            String owner = VolumeDeserializer.IMMUTABLE_FIELDS.contains(field) ? "an immutable"
                    : VolumeDeserializer.EPHEMERAL_FIELDS.contains(field) ? "an ephemeral"
                    : VolumeDeserializer.PERSISTENT_FIELDS.contains(field) ? "a persistent"
                    : field.equals("size_mib") ? "an ephemeral or a persistent"
                    : null;
            if (owner == null) continue;
            String hint = field.equals("ref") && volume instanceof PersistentVolume
                    ? "; to start a persistent volume from an image, use parent.ref" : "";
            at.at(field).fail("belongs to " + owner + " volume, but this volume is " + thisKind + hint);
        }
    }
}
