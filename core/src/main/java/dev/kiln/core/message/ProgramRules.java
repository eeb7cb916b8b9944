package dev.kiln.core.message;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Rules for PROGRAM content: what the guest needs to find, unpack and start the code. */
final class ProgramRules {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern MODULE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");

    private ProgramRules() {}

    static void check(ProgramContent p, Validation v) {
        Validation type = v.at("type");
        if (type.required(p.type(), "required: '" + ProgramContent.VM_FUNCTION + "'")
                && !ProgramContent.VM_FUNCTION.equals(p.type())) {
            type.fail("must be '" + ProgramContent.VM_FUNCTION + "' for a PROGRAM, got '" + p.type() + "'");
        }
        code(p.code(), v.at("code"));
        Validation runtime = v.at("runtime");
        if (runtime.required(p.runtime(), "required: {\"ref\": <item hash of the runtime's STORE message>}")) {
            runtime.at("ref").requiredItemHash(p.runtime().ref());
        }
        Map<String, String> mounts = new HashMap<>();
        data(p.data(), v.at("data"), mounts);
        export(p.export(), v.at("export"));
        triggers(p.on(), v.at("on"));
        programEnvironment(p.environment(), v.at("environment"));
        ExecutableRules.check(p, v, true, mounts);
    }

    private static void code(Code code, Validation v) {
        if (!v.required(code, "required: {\"encoding\", \"entrypoint\", \"ref\"} of the program's code")) return;
        Validation encoding = v.at("encoding");
        if (encoding.required(code.encoding(), "required: one of " + String.join(", ", Encoding.WIRE_NAMES))) {
            encoding.oneOf(code.encoding(), Encoding.WIRE_NAMES);
        }
        v.at("ref").requiredItemHash(code.ref());
        v.at("interface").oneOf(code.codeInterface(), CodeInterface.WIRE_NAMES);
        entrypoint(code, v.at("entrypoint"));
    }

    private static void entrypoint(Code code, Validation at) {
        String ep = code.entrypoint();
        Optional<Encoding> encoding = code.knownEncoding();
        if (ep == null || ep.isBlank()) {
            at.fail(encoding.map(e -> "required when encoding is " + e.wire() + ": ").orElse("required: ")
                    + (encoding.orElse(null) == Encoding.PLAIN
                            ? "the name of the ASGI app variable in the file (e.g. 'app')"
                            : "'module:app' for an ASGI app (e.g. 'main:app') or the path of an executable in the code"));
            return;
        }
        if (code.effectiveInterface().orElse(null) != CodeInterface.ASGI || encoding.isEmpty()) return;
        if (encoding.get() == Encoding.PLAIN) {
            if (!IDENTIFIER.matcher(ep).matches()) {
                at.fail("with encoding plain the code is one Python file run as is, so the entrypoint is the name of"
                        + " its ASGI app variable (e.g. 'app'), got '" + ep + "'");
            }
            return;
        }
        int colon = ep.indexOf(':');
        if (colon < 0) {
            at.fail("must be 'module:app' for an ASGI program (e.g. 'main:app'), got '" + ep + "'");
            return;
        }
        String module = ep.substring(0, colon);
        String app = ep.substring(colon + 1);
        if (module.endsWith(".py")) {
            at.fail("'" + module + "' is a file name, not a module: drop the '.py' ('"
                    + module.substring(0, module.length() - 3) + ":" + app + "')");
        } else if (!MODULE.matcher(module).matches()) {
            at.fail("'" + module + "' is not a Python module name (e.g. 'main' or 'package.module')");
        }
        if (!IDENTIFIER.matcher(app).matches()) {
            at.fail("'" + app + "' is not a Python name: after ':' comes the ASGI app object, e.g. 'app'");
        }
    }

    private static void data(ProgramData data, Validation v, Map<String, String> mounts) {
        if (data == null) return;
        Validation encoding = v.at("encoding");
        if (encoding.required(data.encoding(), "required: one of " + String.join(", ", Encoding.WIRE_NAMES))) {
            encoding.oneOf(data.encoding(), Encoding.WIRE_NAMES);
        }
        Mounts.check(data.mount(), v.at("mount"), true, mounts);
        v.at("ref").itemHash(data.ref());
    }

    private static void export(Export export, Validation v) {
        if (export == null) return;
        Validation encoding = v.at("encoding");
        if (encoding.required(export.encoding(), "required: one of " + String.join(", ", Encoding.WIRE_NAMES))) {
            encoding.oneOf(export.encoding(), Encoding.WIRE_NAMES);
        }
        // Exporting the data directory is the normal case, so the export mount is not a new mount point.
        Mounts.check(export.mount(), v.at("mount"), true, null);
    }

    private static void triggers(Triggers on, Validation v) {
        if (!v.required(on, "required: what starts the program, e.g. {\"http\": true}")) return;
        List<JsonNode> subscriptions = on.subscriptions();
        for (int i = 0; i < subscriptions.size(); i++) {
            JsonNode filter = subscriptions.get(i);
            if (filter == null || !filter.isObject()) {
                v.at("message").at(i).fail("must be an object of message filters, e.g. {\"channel\": \"TEST\"}, got "
                        + Json.describe(filter));
            }
        }
        if (!on.onHttp() && !on.isPersistent() && subscriptions.isEmpty()) {
            v.fail("nothing starts this program: set \"http\": true (started on demand by HTTP requests),"
                    + " \"persistent\": true (kept running) or \"message\" subscriptions");
        }
    }

    private static void programEnvironment(Environment env, Validation v) {
        if (env == null) return;
        // aleph ignores these on a program; refusing them keeps a user from believing their program runs confidentially.
        if (env.hypervisor() != null) {
            v.at("hypervisor").fail("only an INSTANCE chooses its hypervisor; remove it from a PROGRAM");
        }
        if (env.trustedExecution() != null) {
            v.at("trusted_execution").fail("confidential execution is available to instances only; a PROGRAM would run unprotected");
        }
    }
}
