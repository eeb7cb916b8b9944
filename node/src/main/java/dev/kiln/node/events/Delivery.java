package dev.kiln.node.events;

import dev.kiln.core.hash.ItemHash;
import java.time.Duration;
import java.time.Instant;

/**
 * The record of one message's delivery to one program.
 *
 * @param attempts how many times the event was sent (0 when dropped or skipped)
 * @param detail   the last failure in words, or the program's status when delivered
 * @param latency  from the message's arrival to the program's answer; null unless delivered
 */
public record Delivery(ItemHash program, ItemHash message, String source, DeliveryOutcome outcome, int attempts,
                       String detail, Instant received, Instant finished, Duration latency) {
}
