package dev.kiln.guest;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waiting for an answer from the agent, with the failure the caller's thread can throw. */
final class Await {
    private Await() {
    }

    static <T> T await(CompletableFuture<T> future, Duration timeout, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new GuestTimeoutException("no " + what + " within " + timeout);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof GuestChannelClosedException cc) throw again(cc);
            if (c instanceof GuestException ge) throw ge;
            if (c instanceof RuntimeException re) throw re;
            throw new GuestException(what + " failed: " + c, c);
        } catch (CancellationException e) {
            throw new GuestStreamException("cancelled", what + " was cancelled");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestException("interrupted while waiting for " + what, e);
        }
    }

    /**
     * A closure as a new exception for this thread (the original belongs to the reader or
     * another caller), keeping the kind a caller acts on.
     */
    static GuestChannelClosedException again(GuestChannelClosedException cause) {
        if (cause instanceof GuestChannelExhaustedException) return new GuestChannelExhaustedException(cause.getMessage(), cause);
        return new GuestChannelClosedException(cause.getMessage(), cause);
    }
}
