package dev.kiln.core.message;

import java.util.HashMap;

/** Rules for INSTANCE content: the root filesystem it boots from and its confidential-computing settings. */
final class InstanceRules {
    private InstanceRules() {}

    static void check(InstanceContent i, Validation v) {
        rootfs(i.rootfs(), v.at("rootfs"));
        Environment env = i.environment();
        if (env != null) {
            Validation at = v.at("environment");
            at.at("hypervisor").oneOf(env.hypervisor(), Hypervisor.WIRE_NAMES);
            trustedExecution(env, at.at("trusted_execution"));
        }
        // Instances get volumes as extra disks and mount them themselves: a mount point is optional.
        ExecutableRules.check(i, v, false, new HashMap<>());
    }

    private static void rootfs(Rootfs rootfs, Validation v) {
        if (!v.required(rootfs, "required: {\"parent\": {\"ref\"}, \"persistence\", \"size_mib\"}, the disk the instance boots from")) {
            return;
        }
        Validation parent = v.at("parent");
        if (parent.required(rootfs.parent(), "required: {\"ref\": <item hash of the root filesystem image>}")) {
            parent.at("ref").requiredItemHash(rootfs.parent().ref());
        }
        Validation persistence = v.at("persistence");
        if (persistence.required(rootfs.persistence(), "required: one of " + String.join(", ", Persistence.WIRE_NAMES))) {
            persistence.oneOf(rootfs.persistence(), Persistence.WIRE_NAMES);
        }
        Validation size = v.at("size_mib");
        if (size.required(rootfs.sizeMib(), "required: the size of the instance's disk in MiB")) {
            size.range(rootfs.sizeMib(), 1, Limits.MAX_PERSISTENT_MIB, "MiB (2 TiB)");
        }
    }

    private static void trustedExecution(Environment env, Validation v) {
        TrustedExecution tee = env.trustedExecution();
        if (tee == null) return;
        if (env.knownHypervisor().orElse(null) != Hypervisor.QEMU) {
            v.fail("confidential execution needs \"hypervisor\": \"qemu\""
                    + (env.hypervisor() == null ? " (none given)" : ", got '" + env.hypervisor() + "'"));
        }
        v.at("firmware").itemHash(tee.firmware());
        if (tee.policy() != null && tee.policy() < 0) {
            v.at("policy").fail("must be ≥ 0 (AMD SEV guest policy bits), got " + tee.policy());
        }
    }
}
