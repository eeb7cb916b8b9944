package dev.kiln.cli;

import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.EphemeralVolume;
import dev.kiln.core.message.ImmutableVolume;
import dev.kiln.core.message.ParentVolume;
import dev.kiln.core.message.Persistence;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.Volume;
import java.util.Map;

/**
 * {@code kiln program create --volume MOUNT=KIND:...}, the common volume kinds on one line:
 * {@code /var/lib/app=persistent:NAME:SIZE_MIB[:PARENT_HASH]}, {@code /tmp/work=ephemeral:SIZE_MIB},
 * {@code /opt/lib=ref:HASH}. Limits (sizes, names, mounts) are the validator's, checked when the
 * message is written, so the rules live in one place.
 */
final class VolumeOption {
    static final String SYNTAX = "MOUNT=persistent:NAME:SIZE_MIB[:PARENT_HASH] | MOUNT=ephemeral:SIZE_MIB | MOUNT=ref:HASH";

    private VolumeOption() {}

    static Volume parse(String text) {
        int eq = text.indexOf('=');
        if (eq <= 0) throw usage(text, "start with the mount point, e.g. /var/lib/app=persistent:data:64");
        String mount = text.substring(0, eq);
        String[] parts = text.substring(eq + 1).split(":", -1);
        return switch (parts[0]) {
            case "persistent" -> {
                if (parts.length < 3 || parts.length > 4) throw usage(text, "persistent takes NAME:SIZE_MIB[:PARENT_HASH]");
                if (parts.length == 3) yield PersistentVolume.of(mount, parts[1], Persistence.HOST, size(text, parts[2]));
                yield new PersistentVolume(null, mount, ParentVolume.of(hash(text, parts[3])), Persistence.HOST.wire(),
                        parts[1], size(text, parts[2]), Map.of());
            }
            case "ephemeral" -> {
                if (parts.length != 2) throw usage(text, "ephemeral takes SIZE_MIB");
                yield EphemeralVolume.of(mount, size(text, parts[1]));
            }
            case "ref" -> {
                if (parts.length != 2) throw usage(text, "ref takes the HASH of a published squashfs (kiln store publish)");
                yield ImmutableVolume.of(mount, hash(text, parts[1]));
            }
            default -> throw usage(text, "the kind is persistent, ephemeral or ref, not '" + parts[0] + "'");
        };
    }

    /** One line for the user, after the message is written. */
    static String describe(Volume v) {
        return switch (v) {
            case PersistentVolume p -> "persistent '" + p.name() + "', " + p.sizeMib() + " MiB"
                    + (p.parent() == null ? "" : ", first copied from " + p.parent().ref());
            case EphemeralVolume e -> "ephemeral, " + e.sizeMib() + " MiB";
            case ImmutableVolume i -> "read-only " + i.ref();
        };
    }

    private static long size(String text, String s) {
        try {
            long n = Long.parseLong(s);
            if (n > 0) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw usage(text, "the size is a positive number of MiB, not '" + s + "'");
    }

    private static ItemHash hash(String text, String s) {
        try {
            return ItemHash.parse(s);
        } catch (InvalidItemHashException e) {
            throw usage(text, "'" + s + "' is not an item hash: " + e.getMessage());
        }
    }

    private static IllegalArgumentException usage(String text, String why) {
        return new IllegalArgumentException("--volume " + text + ": " + why + " (" + SYNTAX + ")");
    }
}
