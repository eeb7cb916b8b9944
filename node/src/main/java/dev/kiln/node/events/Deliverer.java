package dev.kiln.node.events;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestChannelClosedException;
import dev.kiln.guest.GuestException;
import dev.kiln.guest.GuestResponse;
import dev.kiln.guest.GuestStreamException;
import dev.kiln.guest.GuestTimeoutException;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.pool.Execution;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.pool.Lease;
import dev.kiln.node.program.ProgramResolver;
import java.util.EnumSet;
import java.util.Set;

/**
 * One attempt to hand a message to a program as the {@code aleph.message} event: through the same
 * pool as HTTP requests, so an idle program is booted (single-flight with any request booting it)
 * and a warm one takes the event beside its requests on the same VM.
 */
final class Deliverer {
    /** What one attempt came to. {@code permanent}: retrying cannot help (the program cannot run here). */
    record Attempt(boolean ok, boolean permanent, String detail) {
        static Attempt ok(String detail) {
            return new Attempt(true, false, detail);
        }

        static Attempt failed(String detail) {
            return new Attempt(false, false, detail);
        }
    }

    /** Start failures that come from the program's message or this node's contract, not from the moment. */
    private static final Set<ErrorCode> PERMANENT = EnumSet.of(ErrorCode.INVALID_PROGRAM, ErrorCode.INVALID_CODE,
            ErrorCode.UNSUPPORTED, ErrorCode.PROGRAM_NOT_FOUND, ErrorCode.MISSING_ITEM);

    private final ExecutionPool pool;

    Deliverer(ExecutionPool pool) {
        this.pool = pool;
    }

    Attempt attempt(ItemHash program, InboundMessage m) throws InterruptedException {
        return ScopedValue.where(ProgramResolver.FOR_MESSAGE, true).call(() -> send(program, m));
    }

    private Attempt send(ItemHash program, InboundMessage m) throws InterruptedException {
        try (Lease lease = pool.acquire(program)) {
            Execution e = lease.execution();
            long sent = System.nanoTime();
            GuestResponse r;
            try {
                r = e.guest().event(m.text(), e.requestTimeout());
                lease.answered();
            } catch (GuestTimeoutException ex) {
                boolean replaced = lease.timedOut(sent);
                return Attempt.failed("the program did not answer the event within " + e.requestTimeout().toSeconds()
                        + " s (its resources.seconds)" + (replaced ? "; its VM is replaced" : ""));
            } catch (GuestChannelClosedException ex) {
                lease.vmLost(ex.getMessage());
                return Attempt.failed("the VM died while handling the event");
            } catch (GuestStreamException ex) {
                return Attempt.failed("the guest dropped the event (" + ex.code() + ": " + ex.getMessage() + ")");
            } catch (GuestException ex) {
                return Attempt.failed("sending the event failed: " + ex.getMessage());
            }
            try (r) {
                r.readAllBytes();
            } catch (GuestChannelClosedException ex) {
                lease.vmLost(ex.getMessage());
                return Attempt.failed("the VM died while answering the event");
            } catch (GuestException ex) {
                return Attempt.failed("the program aborted its answer to the event: " + ex.getMessage());
            }
            if (r.status() / 100 == 2) return Attempt.ok("status " + r.status());
            return Attempt.failed("the program answered the event with status " + r.status());
        } catch (NodeException ex) {
            return new Attempt(false, PERMANENT.contains(ex.code()), ex.code().wire() + ": " + ex.getMessage());
        }
    }
}
