package dev.kiln.core.message;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Rules shared by PROGRAM and INSTANCE content. */
final class ExecutableRules {
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern KEY_TYPE = Pattern.compile("(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9-]+@openssh\\.com)");
    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/]{16,}={0,3}");

    private ExecutableRules() {}

    /** {@code mounts}: mount points already taken (a program's data), for duplicate detection. */
    static void check(ExecutableContent c, Validation v, boolean mountRequired, Map<String, String> mounts) {
        v.at("address").required(c.address(), "required: the address that owns the VM");
        v.at("time").epochSeconds(c.time());
        resources(c.resources(), v.at("resources"));
        variables(c.variables(), v.at("variables"));
        authorizedKeys(c.authorizedKeys(), v.at("authorized_keys"));
        VolumeRules.check(c.volumes(), v.at("volumes"), mountRequired, mounts);
    }

    private static void resources(Resources r, Validation v) {
        if (r == null) return;
        v.at("vcpus").range(r.vcpus(), 1, Limits.MAX_VCPUS, "");
        v.at("memory").range(r.memory(), 1, Limits.MAX_MEMORY_MIB, "MiB (1 TiB; memory is counted in MiB, not bytes)");
        v.at("seconds").range(r.seconds(), 1, Limits.MAX_SECONDS, "(about ten years)");
    }

    private static void variables(Map<String, String> variables, Validation v) {
        if (variables == null) return;
        variables.forEach((name, value) -> {
            Validation at = v.atKey(name);
            if (!VARIABLE_NAME.matcher(name).matches()) {
                at.fail("not a usable environment variable name: letters, digits and '_', not starting with a digit");
            }
            if (value == null) {
                at.fail("must be a string, got null");
            } else if (value.indexOf('\0') >= 0) {
                at.fail("must not contain a NUL character: the environment cannot hold it");
            }
        });
    }

    private static void authorizedKeys(List<String> keys, Validation v) {
        if (keys == null) return;
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            Validation at = v.at(i);
            if (key == null || key.isBlank()) {
                at.fail("must be an SSH public key, got " + (key == null ? "null" : "an empty string"));
            } else if (key.contains("\n") || key.contains("\r")) {
                // One entry becomes one line of authorized_keys; a newline would smuggle in another key.
                at.fail("must be a single line: one public key per entry");
            } else if (!looksLikePublicKey(key)) {
                at.fail("not an SSH public key: expected '<type> <base64 key> [comment]', like 'ssh-ed25519 AAAAC3… me@host'");
            }
        }
    }

    private static boolean looksLikePublicKey(String key) {
        String[] tokens = key.strip().split("\\s+");
        for (int i = 0; i + 1 < tokens.length; i++) {
            if (KEY_TYPE.matcher(tokens[i]).matches() && BASE64.matcher(tokens[i + 1]).matches()) return true;
        }
        return false;
    }
}
