package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import java.io.PrintWriter;

/** Adding one machine to a running node's allocation, shared by the commands that create one. */
final class Allocate {
    private Allocate() {
    }

    /** {@code POST /control/allocation/notify}; prints what happened, returns the exit status. */
    static int notify(KilnContext kiln, OperatorClient operator, ItemHash hash, PrintWriter out, PrintWriter err) throws Exception {
        JsonNode o;
        try {
            o = operator.post(kiln, "/control/allocation/notify", "{\"instance\": \"" + hash.value() + "\"}").json();
        } catch (OperatorClient.Refused e) {
            err.println(e.getMessage());
            err.println("kiln: the message is written; allocate it " + (e.unreachable ? "once a node runs" : "later")
                    + " with 'kiln allocation add " + hash + "'");
            // Nobody to allocate it on is not a failure of what was asked (publishing); a node's refusal is.
            return e.unreachable ? Main.OK : Main.USER_ERROR;
        }
        JsonNode error = o.path("errors").path(hash.value());
        if (!error.isMissingNode()) {
            err.println("kiln: the node did not start " + hash + ": " + error.asText());
            return Main.USER_ERROR;
        }
        out.println("  allocated: the node starts it now (see 'kiln instance list' / 'kiln status')");
        return Main.OK;
    }
}
