package dev.kiln.guest;

import java.time.Duration;
import java.util.List;

/** CONFIGURE with its attachments, and the wait for CONFIGURED (docs/guest-protocol.md §5). */
final class ConfigureCall {
    private ConfigureCall() {
    }

    static Configured run(GuestChannel channel, ProgramConfig config, Duration timeout) {
        List<Attachment> attachments = config.attachments();
        GuestStream stream = channel.openStream(GuestStream.Kind.CONFIGURE);
        channel.send(Frame.of(FrameType.CONFIGURE, attachments.isEmpty() ? Frame.FLAG_END : 0, stream.id,
                WireCodec.configure(config)));
        if (!attachments.isEmpty()) BodyUpload.attachments(channel, stream, attachments);
        Frame result;
        try {
            result = Await.await(stream.head, timeout, "the configuration result");
        } catch (GuestTimeoutException e) {
            channel.cancel(stream, "timeout");
            throw e;
        }
        return WireCodec.configured(result.payload());
    }
}
