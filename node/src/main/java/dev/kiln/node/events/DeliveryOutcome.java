package dev.kiln.node.events;

import java.util.Locale;

/** How the delivery of one message to one program ended. */
public enum DeliveryOutcome {
    /** The program answered the event with a 2xx status. */
    DELIVERED,
    /** Every attempt failed (or the failure cannot change by retrying, e.g. the program is invalid). */
    FAILED,
    /** The program's queue was full: the message was not kept. */
    DROPPED,
    /** The program had failed too many messages in a row; its deliveries are paused for a while. */
    SKIPPED;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
