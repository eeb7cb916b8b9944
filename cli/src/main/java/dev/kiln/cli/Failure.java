package dev.kiln.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** Turns an exception into the one line a user reads; the stack trace only on --debug. */
final class Failure {
    private Failure() {}

    static void report(Throwable ex, boolean debug, PrintWriter err) {
        Throwable t = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        err.println("kiln: " + describe(t));
        if (debug) {
            ex.printStackTrace(err);
        } else if (isBug(t)) {
            err.println("kiln: this looks like a bug in Kiln; run again with --debug for the stack trace");
        }
        err.flush();
    }

    static String describe(Throwable t) {
        return switch (t) {
            case NoSuchFileException e -> "no such file: " + e.getFile();
            case AccessDeniedException e -> "permission denied: " + e.getFile();
            case FileNotFoundException e -> "file not found: " + e.getMessage();
            case IOException e -> e.getMessage() == null ? "I/O error (" + e.getClass().getSimpleName() + ")" : e.getMessage();
            default -> isBug(t) ? "internal error: " + t : String.valueOf(t.getMessage());
        };
    }

    /** Exceptions no user input should produce. */
    private static boolean isBug(Throwable t) {
        return t instanceof NullPointerException || t instanceof ClassCastException
                || t instanceof IndexOutOfBoundsException || t instanceof IllegalStateException
                || t.getMessage() == null;
    }
}
