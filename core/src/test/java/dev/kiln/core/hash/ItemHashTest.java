package dev.kiln.core.hash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ItemHashTest {

    @Test
    void sha256HexIsRecognisedAndNormalised() {
        String upper = "63F07193E6EE9D207B7D1FCF8286F9AEE34E6F12F101D2EC77C1229F92964696";
        ItemHash h = ItemHash.parse(upper);
        assertThat(h.kind()).isEqualTo(ItemHash.Kind.SHA256);
        assertThat(h.value()).isEqualTo(upper.toLowerCase());
        assertThat(h.shortForm()).isEqualTo("63f07193e6ee");
    }

    @Test
    void sha256OfBytesMatchesKnownVector() {
        assertThat(ItemHash.sha256Of("abc".getBytes(StandardCharsets.US_ASCII)).value())
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void cidV0FromTheSeedsIsRecognised() {
        ItemHash h = ItemHash.parse("QmdyF1cD5WtockpAzLYhgXYJUDY4iXeAKtQuUn1kjsQ3k1");
        assertThat(h.kind()).isEqualTo(ItemHash.Kind.CID_V0);
    }

    @Test
    void cidV1Base32IsRecognised() {
        ItemHash h = ItemHash.parse("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
        assertThat(h.kind()).isEqualTo(ItemHash.Kind.CID_V1);
    }

    @Test
    void cidV1BuiltFromADigestRoundTrips() {
        byte[] digest = ItemHash.newDigest().digest("kiln".getBytes(StandardCharsets.UTF_8));
        byte[] cid = new byte[4 + 32];
        cid[0] = 0x01; cid[1] = 0x55; cid[2] = 0x12; cid[3] = 0x20; // v1, raw, sha2-256, 32 bytes
        System.arraycopy(digest, 0, cid, 4, 32);
        String text = "b" + base32(cid);
        assertThat(ItemHash.parse(text).kind()).isEqualTo(ItemHash.Kind.CID_V1);
        // dropping the last digest byte breaks the multihash length
        assertThatThrownBy(() -> ItemHash.parse(text.substring(0, text.length() - 2)))
                .isInstanceOf(InvalidItemHashException.class)
                .hasMessageContaining("length");
    }

    @Test
    void badValuesAreRejectedWithTheValueNamed() {
        assertThatThrownBy(() -> ItemHash.parse("fake-hash-123"))
                .isInstanceOf(InvalidItemHashException.class)
                .hasMessageContaining("fake-hash-123");
        assertThatThrownBy(() -> ItemHash.parse("abc123"))
                .hasMessageContaining("64 hex digits, this has 6");
        assertThatThrownBy(() -> ItemHash.parse("QmdyF1cD5WtockpAzLYhgXYJUDY4iXeAKtQuUn1kjsQ3k"))
                .hasMessageContaining("46 characters");
        assertThatThrownBy(() -> ItemHash.parse("Qm0yF1cD5WtockpAzLYhgXYJUDY4iXeAKtQuUn1kjsQ3k1"))
                .hasMessageContaining("base58");
        assertThatThrownBy(() -> ItemHash.parse("bafyBEIG0000000000"))
                .hasMessageContaining("base32");
        assertThatThrownBy(() -> ItemHash.parse("  "))
                .hasMessageContaining("empty");
        assertThat(ItemHash.isValid("zz".repeat(32))).isFalse();
    }

    private static String base32(byte[] data) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        StringBuilder sb = new StringBuilder();
        int buffer = 0, bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                sb.append(alphabet.charAt((buffer >> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) sb.append(alphabet.charAt((buffer << (5 - bits)) & 31));
        return sb.toString();
    }
}
