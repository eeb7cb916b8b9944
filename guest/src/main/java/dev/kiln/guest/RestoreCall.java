package dev.kiln.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** RESTORED to the agent and the wait for its answer (docs/guest-protocol.md §9). */
final class RestoreCall {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RestoreCall() {
    }

    static Restored run(GuestChannel channel, RestoreNotice notice, Duration timeout) {
        var answer = channel.inbound().expectRestored();
        channel.send(Frame.of(FrameType.RESTORED, 0, encode(notice)));
        return decode(Await.await(answer, timeout, "the agent's RESTORED answer"));
    }

    static byte[] encode(RestoreNotice n) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("generation", n.generation());
        m.put("entropy", Base64.getEncoder().encodeToString(n.entropy()));
        m.put("time", n.hostTime().toEpochMilli() / 1000.0);
        if (n.hostname() != null) m.put("hostname", n.hostname());
        if (n.network() != null) {
            Map<String, Object> net = n.network().wire();
            net.put("mac", n.mac());
            m.put("network", net);
        }
        return WireCodec.json(m);
    }

    static Restored decode(byte[] payload) {
        JsonNode r;
        try {
            r = JSON.readTree(payload);
        } catch (java.io.IOException e) {
            throw new GuestProtocolException("RESTORED payload is not valid JSON");
        }
        if (r == null || !r.isObject() || !r.path("generation").canConvertToLong()) {
            throw new GuestProtocolException("RESTORED answer needs a generation");
        }
        List<Configured.Skipped> skipped = new ArrayList<>();
        for (JsonNode s : r.path("skipped")) skipped.add(new Configured.Skipped(s.path("step").asText(), s.path("reason").asText()));
        return new Restored(r.path("generation").asLong(), r.path("clock_offset").asDouble(), List.copyOf(skipped));
    }
}
