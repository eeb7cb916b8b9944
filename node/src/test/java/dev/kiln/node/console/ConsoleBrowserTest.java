package dev.kiln.node.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.logging.LogEntry;

/**
 * The web console in a real headless Chromium, against a node whose VMs are the real guest agent
 * run as host processes (no QEMU needed): the page loads without console errors, lists the
 * sample, shows a VM appear after a request and its state change without a reload, shows the
 * program's log lines live, draws the charts, and fits a phone in dark mode. Screenshots go to
 * {@code node/target/console-screenshots/}; the page's weight and first paint are printed
 * (docs/performance.md, "Console").
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
    static final Path SHOTS = Path.of("target", "console-screenshots");
    static final String PRINTER = """
            import sys

            async def app(scope, receive, send):
                if scope["type"] == "lifespan":
                    while True:
                        message = await receive()
                        if message["type"] == "lifespan.startup":
                            print("printer: started", flush=True)
                            await send({"type": "lifespan.startup.complete"})
                        elif message["type"] == "lifespan.shutdown":
                            await send({"type": "lifespan.shutdown.complete"})
                            return
                print("hello from printer <b>" + scope["path"] + "</b>", flush=True)
                print("printer says on stderr", file=sys.stderr, flush=True)
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"printed"})
            """;

    @TempDir
    static Path dir;
    static TestNode node;
    static Browser browser;
    static PublishedProgram sample;
    static PublishedProgram printer;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Browser.installed(), "chromium and chromium-driver are not installed (scripts/setup.sh)");
        node = TestNode.withAgents(dir, new AgentVmLauncher(Duration.ofMillis(300)),
                c -> c.withIdleTimeout(Duration.ofMinutes(5)));
        sample = node.publishSample(Encoding.ZIP);
        Path code = Files.createDirectories(dir.resolve("printer"));
        Files.writeString(code.resolve("main.py"), PRINTER);
        printer = node.publish(code, Encoding.ZIP, "main:app", CodeInterface.ASGI, Resources.of(1, 128, 30), "printer");
        browser = Browser.start(Files.createDirectories(dir.resolve("chromium-profile")));
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (node != null) node.close();
    }

    @Test
    @Order(1)
    void theOverviewListsTheSampleAndShowsAVmAppearAndChangeStateWithoutAReload() throws Exception {
        long t0 = System.nanoTime();
        browser.driver.get(node.uri("/").toString());
        long loaded = System.nanoTime() - t0;
        assertThat(browser.driver.getTitle()).isEqualTo("Overview · Kiln node");
        assertThat(text("#programs")).contains("sample").contains(sample.message().shortForm()).contains("printer");
        assertThat(text("#runtimes")).contains("debian-12-python");
        assertThat(text("#executions")).contains("No VM is running");
        browser.js("window.kilnMarker = 42;");
        awaitSseConnected();

        CompletableFuture<Integer> slow = CompletableFuture.supplyAsync(() -> status(sample, "/slow?ms=4000"));
        By row = By.cssSelector("#executions tr[data-vm]");
        await().atMost(Duration.ofSeconds(30)).until(() -> state(row) != null);
        await().atMost(Duration.ofSeconds(30)).until(() -> "busy".equals(state(row)));
        assertThat(text("#executions")).contains("sample");
        browser.screenshot(SHOTS.resolve("overview-busy.png"));
        assertThat(slow.get()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> "idle".equals(state(row)));
        assertThat(browser.js("return window.kilnMarker;")).as("the page was not reloaded").isEqualTo(42L);
        assertThat(node.get(printer.message(), "/first").statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(20)).until(() -> "2".equals(attribute("#chart-cold", "data-points")));
        await().atMost(Duration.ofSeconds(20)).until(() -> Integer.parseInt(attribute("#chart-latency", "data-points")) >= 2);
        assertThat(browser.driver.findElements(By.cssSelector("#chart-cold canvas"))).isNotEmpty();
        assertThat(browser.driver.findElements(By.cssSelector("#chart-latency canvas"))).isNotEmpty();
        browser.screenshot(SHOTS.resolve("overview.png"));
        recordWeight("overview", loaded);
        assertNoConsoleErrors();
    }

    @Test
    @Order(2)
    void theProgramPageFollowsItsLogLive() throws Exception {
        browser.driver.get(node.uri("/console/programs/" + printer.message().value()).toString());
        assertThat(browser.driver.getTitle()).isEqualTo("printer · Kiln node");
        By log = By.cssSelector("pre.log");
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.driver.findElement(log).getText()
                .contains("hello from printer <b>/first</b>"));
        assertThat(browser.driver.findElements(By.cssSelector("pre.log b")).stream().map(WebElement::getText))
                .as("program output is text, never markup").doesNotContain("/first");
        assertThat(browser.driver.findElement(log).getText()).contains("init").contains("printer: started");
        assertThat(node.get(printer.message(), "/second").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.driver.findElement(log).getText()
                .contains("hello from printer <b>/second</b>"));
        browser.driver.navigate().refresh();
        assertThat(text("#requests")).as("recent requests, newest first").contains("GET /second").contains("GET /first");
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.driver.findElement(log).getText().contains("/second"));
        String marker = "/live-" + System.nanoTime();
        assertThat(node.get(printer.message(), marker).statusCode()).isEqualTo(200);
        await("a new request appears without a reload").atMost(Duration.ofSeconds(20))
                .until(() -> text("#requests").contains("GET " + marker));
        assertThat(text("#requests")).contains(node.node.pool().running(printer.message()).orElseThrow().id());
        browser.screenshot(SHOTS.resolve("program.png"));
        recordWeight("program", 0);
        assertNoConsoleErrors();
    }

    @Test
    @Order(3)
    void theVmPageShowsItsBootAndLog() throws Exception {
        String vm = node.node.pool().running(printer.message()).orElseThrow().id();
        browser.driver.get(node.uri("/console/vms/" + vm).toString());
        assertThat(text("dl.facts")).contains("cold start").contains("resolve").contains("configure");
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.driver.findElement(By.cssSelector("pre.log")).getText()
                .contains("printer says on stderr"));
        assertThat(browser.driver.findElements(By.cssSelector("pre.log .l-stderr")).stream().map(WebElement::getText))
                .as("stderr is its own stream").anyMatch(t -> t.contains("printer says on stderr"));
        assertThat(text("#requests")).as("the VM's recent requests").contains("GET /second");
        assertThat(node.get(printer.message(), "/after-vm-page").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> text("#requests").contains("GET /after-vm-page"));
        browser.screenshot(SHOTS.resolve("vm.png"));
        assertNoConsoleErrors();
    }

    @Test
    @Order(4)
    void atAPhonesWidthInDarkModeNothingOverflowsAndTheBackgroundIsDark() throws Exception {
        browser.size(390, 844);
        browser.colorScheme("dark");
        browser.driver.get(node.uri("/").toString());
        awaitSseConnected();
        await().atMost(Duration.ofSeconds(20)).until(() -> attribute("#chart-cold", "data-rendered") != null);
        Object overflow = browser.js("return document.documentElement.scrollWidth - window.innerWidth;");
        assertThat(((Number) overflow).intValue()).as("horizontal overflow in px").isLessThanOrEqualTo(0);
        String background = (String) browser.js("return getComputedStyle(document.body).backgroundColor;");
        assertThat(background).isEqualTo("rgb(21, 23, 26)");
        browser.screenshot(SHOTS.resolve("overview-phone-dark.png"));
        browser.driver.get(node.uri("/console/programs/" + printer.message().value()).toString());
        browser.screenshot(SHOTS.resolve("program-phone-dark.png"));
        assertNoConsoleErrors();
        browser.colorScheme("light");
        browser.size(1280, 1000);
    }

    @Test
    @Order(5)
    void searchFindsAProgramByNameAndByHashPrefix() {
        browser.driver.get(node.uri("/console/search?q=printer").toString());
        assertThat(browser.driver.getCurrentUrl()).endsWith("/console/programs/" + printer.message().value());
        browser.driver.get(node.uri("/console/search?q=" + sample.message().value().substring(0, 10)).toString());
        assertThat(browser.driver.getCurrentUrl()).endsWith("/console/programs/" + sample.message().value());
        browser.driver.get(node.uri("/console/search?q=nothing-like-this").toString());
        assertThat(text("main")).contains("no program matches");
    }

    // ------------------------------------------------------------------ helpers

    private static int status(PublishedProgram p, String path) {
        try {
            return node.get(p.message(), path).statusCode();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String text(String css) {
        return browser.driver.findElement(By.cssSelector(css)).getText();
    }

    private static String attribute(String css, String name) {
        return (String) browser.js("var e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
                css, name);
    }

    /** Read in the page (a live swap replaces the row between a lookup and a read). */
    private static String state(By row) {
        return (String) browser.js("var r = document.querySelector('#executions tr[data-vm]'); return r ? r.dataset.state : null;");
    }

    /** htmx opens the event source once the page has loaded; a change before that would be missed by no one, but waits are clearer after it. */
    private static void awaitSseConnected() {
        await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.TRUE.equals(browser.js(
                "var e = document.querySelector('[sse-connect]'); return !!(e && e['htmx-internal-data']"
                        + " && e['htmx-internal-data'].sseEventSource && e['htmx-internal-data'].sseEventSource.readyState === 1);")));
    }

    private static void assertNoConsoleErrors() {
        List<LogEntry> messages = browser.consoleMessages();
        assertThat(messages.stream().filter(m -> m.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
                .map(LogEntry::getMessage).toList()).as("browser console errors and warnings").isEmpty();
    }

    /** Prints what the page weighed and when it first painted (docs/performance.md records them). */
    private static void recordWeight(String page, long loadNanos) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) browser.js("""
                var nav = performance.getEntriesByType('navigation')[0];
                var res = performance.getEntriesByType('resource');
                var bytes = nav.transferSize, decoded = nav.decodedBodySize;
                res.forEach(function (r) { bytes += r.transferSize; decoded += r.decodedBodySize; });
                var fcp = performance.getEntriesByName('first-contentful-paint')[0];
                return {requests: res.length + 1, transfer: bytes, decoded: decoded,
                        fcp: fcp ? fcp.startTime : -1, dcl: nav.domContentLoadedEventEnd};
                """);
        System.out.println("console page weight: " + page + " " + m + (loadNanos > 0 ? " driver.get " + loadNanos / 1_000_000 + " ms" : ""));
    }
}
