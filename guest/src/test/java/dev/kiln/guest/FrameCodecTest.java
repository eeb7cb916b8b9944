package dev.kiln.guest;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrameCodecTest {
    private static byte[] encode(Frame... frames) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameWriter w = new FrameWriter(Channels.newChannel(out));
        for (Frame f : frames) w.write(f);
        return out.toByteArray();
    }

    private static FrameReader reader(byte[] bytes) {
        return new FrameReader(Channels.newChannel(new ByteArrayInputStream(bytes)));
    }

    @Test
    void roundTripsFramesWithTheDocumentedHeader() throws Exception {
        byte[] bytes = encode(Frame.of(FrameType.REQUEST, Frame.FLAG_END, 7, "{}".getBytes()),
                Frame.of(FrameType.DATA, 0, 7, new byte[70_000]), new Frame(0x7f, 0x80, 0, new byte[0]));
        // u32 length, u8 type, u8 flags, u32 stream: big-endian.
        assertThat(ByteBuffer.wrap(bytes, 0, 10).getInt()).isEqualTo(2);
        assertThat(bytes[4]).isEqualTo((byte) 0x10);
        assertThat(bytes[5]).isEqualTo((byte) 1);
        assertThat(ByteBuffer.wrap(bytes, 6, 4).getInt()).isEqualTo(7);
        FrameReader r = reader(bytes);
        Frame a = r.read();
        assertThat(a.knownType()).isEqualTo(FrameType.REQUEST);
        assertThat(a.end()).isTrue();
        assertThat(new String(a.payload())).isEqualTo("{}");
        assertThat(r.read().payload()).hasSize(70_000);
        Frame unknown = r.read();
        assertThat(unknown.knownType()).isNull();
        assertThat(unknown.type()).isEqualTo(0x7f);
        assertThat(r.read()).isNull();
    }

    @Test
    void refusesOversizedFramesFromTheGuestWithoutAllocating() {
        byte[] header = ByteBuffer.allocate(10).putInt(Integer.MAX_VALUE).put((byte) 0x13).put((byte) 0).putInt(1).array();
        assertThatThrownBy(() -> reader(header).read()).isInstanceOf(GuestProtocolException.class)
                .hasMessageContaining("2147483647");
    }

    @Test
    void truncatedFrameIsAnErrorNotACleanEnd() throws Exception {
        byte[] bytes = encode(Frame.of(FrameType.DATA, 0, 1, new byte[100]));
        byte[] cut = Arrays.copyOf(bytes, 50);
        assertThatThrownBy(() -> reader(cut).read()).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> reader(Arrays.copyOf(bytes, 4)).read()).isInstanceOf(EOFException.class);
    }

    @Test
    void writerRefusesPayloadsOverTheMaximum() {
        assertThatThrownBy(() -> Frame.of(FrameType.DATA, 1, new byte[(1 << 20) + 1])).isInstanceOf(IllegalArgumentException.class);
    }
}
