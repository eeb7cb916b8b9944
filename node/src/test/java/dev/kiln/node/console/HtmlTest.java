package dev.kiln.node.console;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HtmlTest {
    @Test
    void textCannotOpenATagOrAnEntity() {
        assertThat(Html.text("<script>alert(1)</script>")).isEqualTo("&lt;script&gt;alert(1)&lt;/script&gt;");
        assertThat(Html.text("a & b &amp;")).isEqualTo("a &amp; b &amp;amp;");
        assertThat(Html.text(null)).isEmpty();
    }

    @Test
    void anAttributeValueCannotBeClosedOrSplit() {
        String hostile = "\" onmouseover=\"alert(1)' x='`\n";
        String escaped = Html.attr(hostile);
        assertThat(escaped).doesNotContain("\"").doesNotContain("'").doesNotContain("`").doesNotContain("\n");
        assertThat(escaped).isEqualTo("&quot; onmouseover=&quot;alert(1)&#39; x=&#39;&#96;&#10;");
    }

    @Test
    void controlCharactersAreDroppedButTabsAndNewlinesKept() {
        assertThat(Html.text("a\u0000b\u001b[31mc\td\ne\u007f")).isEqualTo("ab[31mc\td\ne");
    }

    @Test
    void hrefsAreOnlyThisNodesPaths() {
        assertThat(Html.href("/console/vms/a\"b")).isEqualTo("/console/vms/a&quot;b");
        assertThat(Html.href("javascript:alert(1)")).isEqualTo("#");
        assertThat(Html.href("//evil.example/x")).isEqualTo("#");
        assertThat(Html.href("/\\evil.example")).isEqualTo("#");
        assertThat(Html.href("https://evil.example/")).isEqualTo("#");
        assertThat(Html.href(null)).isEqualTo("#");
    }

    @Test
    void urlPartsArePercentEncoded() {
        assertThat(Html.urlPart("a b/c?d#e\"<")).isEqualTo("a%20b%2Fc%3Fd%23e%22%3C");
    }

    @Test
    void aLogLineWithMarkupStaysText() {
        var e = new dev.kiln.node.logs.LogEntry(7, java.time.Instant.EPOCH, "vm-1\"><img src=x>",
                dev.kiln.node.logs.LogStream.PROGRAM, "<img src=x onerror=alert(1)>");
        String html = Fragments.logLines(java.util.List.of(e), true);
        assertThat(html).doesNotContain("<img").contains("&lt;img src=x onerror=alert(1)&gt;")
                .contains("vm-1&quot;&gt;&lt;img src=x&gt;");
    }
}
