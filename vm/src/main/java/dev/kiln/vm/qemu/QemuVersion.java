package dev.kiln.vm.qemu;

import com.fasterxml.jackson.databind.JsonNode;

/** QEMU's version as its QMP greeting states it, e.g. {@code 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)}. */
final class QemuVersion {
    private QemuVersion() {
    }

    static String of(QmpClient qmp) {
        JsonNode v = qmp.greeting() == null ? null : qmp.greeting().path("version");
        if (v == null || v.isMissingNode()) return "unknown";
        JsonNode q = v.path("qemu");
        String pkg = v.path("package").asText("").strip();
        return q.path("major").asInt() + "." + q.path("minor").asInt() + "." + q.path("micro").asInt()
                + (pkg.isEmpty() ? "" : " (" + pkg + ")");
    }
}
