package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.message.EphemeralVolume;
import dev.kiln.core.message.ImmutableVolume;
import dev.kiln.core.message.PersistentVolume;
import org.junit.jupiter.api.Test;

class VolumeOptionTest {
    static final String HASH = "5f31b0706f59404fad3d0bff97ef89ddf24da4761608ea0646329362c662ba51";

    @Test
    void theThreeKindsAsTheMessageWritesThem() {
        PersistentVolume p = (PersistentVolume) VolumeOption.parse("/var/lib/app=persistent:data:64");
        assertThat(p.mount()).isEqualTo("/var/lib/app");
        assertThat(p.name()).isEqualTo("data");
        assertThat(p.sizeMib()).isEqualTo(64L);
        assertThat(p.persistence()).isEqualTo("host");
        assertThat(p.parent()).isNull();

        PersistentVolume withParent = (PersistentVolume) VolumeOption.parse("/srv=persistent:db:100:" + HASH);
        assertThat(withParent.parent().ref()).isEqualTo(HASH);

        EphemeralVolume e = (EphemeralVolume) VolumeOption.parse("/tmp/work=ephemeral:32");
        assertThat(e.sizeMib()).isEqualTo(32L);
        assertThat(e.mount()).isEqualTo("/tmp/work");

        ImmutableVolume i = (ImmutableVolume) VolumeOption.parse("/opt/lib=ref:" + HASH);
        assertThat(i.ref()).isEqualTo(HASH);
        assertThat(i.readOnly()).isTrue();
    }

    @Test
    void mistakesSayWhatIsWrongAndShowTheSyntax() {
        assertThatThrownBy(() -> VolumeOption.parse("persistent:data:64")).hasMessageContaining("start with the mount point");
        assertThatThrownBy(() -> VolumeOption.parse("/a=persistent:data")).hasMessageContaining("NAME:SIZE_MIB");
        assertThatThrownBy(() -> VolumeOption.parse("/a=ephemeral:lots")).hasMessageContaining("positive number of MiB");
        assertThatThrownBy(() -> VolumeOption.parse("/a=ephemeral:0")).hasMessageContaining("positive number of MiB");
        assertThatThrownBy(() -> VolumeOption.parse("/a=ref:xyz")).hasMessageContaining("not an item hash");
        assertThatThrownBy(() -> VolumeOption.parse("/a=nfs:server")).hasMessageContaining("persistent, ephemeral or ref")
                .hasMessageContaining(VolumeOption.SYNTAX);
    }
}
