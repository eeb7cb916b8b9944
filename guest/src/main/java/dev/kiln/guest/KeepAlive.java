package dev.kiln.guest;

import java.time.Duration;

/** PINGs at a fixed interval; a PONG that does not come back within it closes the channel. */
final class KeepAlive {
    private KeepAlive() {
    }

    static void start(GuestChannel channel, Duration interval) {
        Thread.ofVirtual().name("kiln-guest-keepalive").start(() -> run(channel, interval));
    }

    private static void run(GuestChannel channel, Duration interval) {
        while (channel.isOpen()) {
            try {
                Thread.sleep(interval);
                channel.ping(interval);
            } catch (InterruptedException e) {
                return;
            } catch (GuestTimeoutException e) {
                channel.fatal(new GuestChannelClosedException("keep-alive: no PONG within " + interval));
            } catch (GuestChannelClosedException e) {
                return;
            }
        }
    }
}
