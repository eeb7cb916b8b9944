package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestChannelClosedException;
import dev.kiln.guest.GuestConfigureException;
import dev.kiln.guest.GuestErrorCode;
import dev.kiln.guest.GuestException;
import dev.kiln.guest.GuestTimeoutException;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.vm.VmBootException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Every way a start can fail, mapped once to the error the client gets: the driver's typed boot
 * reasons, the guest's configure failures, an execution that ended while starting.
 */
final class StartErrors {
    private StartErrors() {
    }

    static NodeException shuttingDown() {
        return new NodeException(ErrorCode.SHUTTING_DOWN, "the node is shutting down; try another node or again later");
    }

    /** The launch failed; the driver left nothing running. */
    static NodeException launch(ItemHash program, VmBootException e) {
        return switch (e.reason()) {
            case LAUNCHER_CLOSED, STOPPED -> new NodeException(ErrorCode.SHUTTING_DOWN, "the node is shutting down and"
                    + " did not finish booting program " + program + "; try another node or again later", e);
            default -> new NodeException(ErrorCode.BOOT_FAILED, "the VM for program " + program + " did not boot ("
                    + firstLine(e.getMessage()) + "); the node's log has its console", e);
        };
    }

    /** What the execution's record says about a failed launch. */
    static String launchDetail(VmBootException e) {
        return "boot failed (" + e.reason().label() + "): " + firstLine(e.getMessage());
    }

    /** The guest did not take the program's configuration. */
    static NodeException configure(ItemHash program, GuestException e) {
        return switch (e) {
            case GuestConfigureException c -> new NodeException(c.errorCode() == GuestErrorCode.INTERNAL ? ErrorCode.BOOT_FAILED
                    : ErrorCode.INVALID_CODE, "program " + program + " did not start: " + c.reason() + " (" + c.code() + ")", c);
            case GuestTimeoutException t -> new NodeException(ErrorCode.PROGRAM_TIMEOUT, "program " + program
                    + " did not finish starting in time (" + t.getMessage() + ")", t);
            case GuestChannelClosedException c -> new NodeException(ErrorCode.BOOT_FAILED, "the VM of program " + program
                    + " died while the program started; the node's log has its console", c);
            default -> new NodeException(ErrorCode.BOOT_FAILED, "program " + program + " could not be configured: "
                    + e.getMessage(), e);
        };
    }

    /** What the execution's record says about a failed configure. */
    static String configureDetail(GuestException e) {
        return switch (e) {
            case GuestConfigureException c -> "program did not start: " + c.code();
            case GuestTimeoutException t -> "program did not start in time";
            case GuestChannelClosedException c -> "the VM died while the program started";
            default -> "configuration failed";
        };
    }

    /** The execution was retired before it served: what the requests waiting for it get. */
    static NodeException ended(ItemHash program, Ending ending) {
        return switch (ending.reason()) {
            case SHUTDOWN -> shuttingDown();
            default -> new NodeException(ErrorCode.BOOT_FAILED, "program " + program + " did not finish starting: "
                    + ending.text() + "; the node's log has the details");
        };
    }

    static NodeException unexpected(ItemHash program, Throwable e) {
        return new NodeException(ErrorCode.INTERNAL, "the node failed to start program " + program
                + "; its log has the details", e);
    }

    /** Waits for a start; its failure is rethrown as a fresh exception so each request has its own stack. */
    static Execution await(CompletableFuture<Execution> serving) throws NodeException, InterruptedException {
        try {
            return serving.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NodeException ne) {
                throw new NodeException(ne.code(), ne.getMessage(), ne.details(), ne);
            }
            throw new NodeException(ErrorCode.INTERNAL, "the program could not be started; the node's log has the details",
                    e.getCause());
        }
    }

    static String firstLine(String s) {
        if (s == null) return "no reason given";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
