package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class KeepWarmOptionTest {
    @Test
    void secondsMinutesHoursAndBareNumbers() {
        assertThat(KeepWarmOption.parse("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(KeepWarmOption.parse("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(KeepWarmOption.parse("1H")).isEqualTo(Duration.ofHours(1));
        assertThat(KeepWarmOption.parse(" 45 ")).isEqualTo(Duration.ofSeconds(45));
    }

    @Test
    void zeroNegativeAndOtherUnitsAreRefusedWithAnExample() {
        assertThatThrownBy(() -> KeepWarmOption.parse("0")).hasMessageContaining("at least 1 second");
        assertThatThrownBy(() -> KeepWarmOption.parse("-5s")).hasMessageContaining("e.g. 90s");
        assertThatThrownBy(() -> KeepWarmOption.parse("2d")).hasMessageContaining("not a duration");
        assertThatThrownBy(() -> KeepWarmOption.parse("PT5M")).hasMessageContaining("not a duration");
    }
}
