package dev.kiln.builder.runtime;

import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.core.catalogue.RuntimeEntry;
import dev.kiln.core.catalogue.RuntimeOrigin;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.BlobStore;
import dev.kiln.store.KilnHome;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.PublishException;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Publishing a built image: into the store, as a STORE message whose hash is the runtime.ref; an
 * amend makes use_latest resolve to the new version; published and built runtimes are listed.
 */
class PublishTest {

    @TempDir
    Path homeDir;
    private KilnHome home;
    private StoreRecords records;
    private LocalPublisher publisher;
    private LocalRuntimes local;
    private BuiltRuntime minimal;

    @BeforeEach
    void open() throws Exception {
        home = KilnHome.of(homeDir).create();
        records = home.openStoreRecords();
        publisher = LocalPublisher.open(home, BlobStore.open(home), records);
        local = new LocalRuntimes(homeDir);
        minimal = TestBuilds.runtime("minimal");
    }

    @AfterEach
    void close() {
        records.close();
    }

    @Test
    void aPublishedImageIsAStoreMessageThatResolvesToTheImage() throws Exception {
        LocalRuntimes.Publication p = local.publish(publisher, minimal.image(), null, null);

        assertThat(p.name()).isEqualTo("local/minimal");
        assertThat(p.imageSha256()).isEqualTo(minimal.imageHash().value());
        assertThat(p.filesystem()).isEqualTo("squashfs");
        StoreRecord record = records.resolve(ItemHash.parse(p.messageHash()), true).orElseThrow();
        assertThat(record.fileHash()).isEqualTo(minimal.imageHash());
        assertThat(BlobStore.open(home).has(minimal.imageHash())).isTrue();

        List<RuntimeEntry> entries = local.entries();
        assertThat(entries).singleElement().satisfies(e -> {
            assertThat(e.itemHash().value()).isEqualTo(p.messageHash());
            assertThat(e.origin()).isEqualTo(RuntimeOrigin.LOCAL);
            assertThat(e.name()).isEqualTo("local/minimal");
        });
    }

    @Test
    void anAmendMakesUseLatestResolveToTheNewVersion() throws Exception {
        LocalRuntimes.Publication first = local.publish(publisher, minimal.image(), "my-runtime", null);
        BuiltRuntime python = TestBuilds.runtime("debian-12-python");

        LocalRuntimes.Publication second = local.publish(publisher, python.image(), "my-runtime-v2",
                ItemHash.parse(first.messageHash()));

        ItemHash ref = ItemHash.parse(first.messageHash());
        assertThat(records.resolve(ref, true).orElseThrow().fileHash()).isEqualTo(python.imageHash());
        assertThat(records.resolve(ref, false).orElseThrow().fileHash()).isEqualTo(minimal.imageHash());
        assertThat(second.amends()).isEqualTo(first.messageHash());
        assertThat(local.entries()).extracting(RuntimeEntry::name).containsExactly("my-runtime", "my-runtime-v2");
    }

    @Test
    void whatIsNotARuntimeImageOrNoLongerMatchesItsManifestIsRefused(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("notes.squashfs"), "not a filesystem");
        assertThatThrownBy(() -> local.publish(publisher, text, null, null)).isInstanceOf(PublishException.class)
                .hasMessageContaining("is not a runtime image");

        Path copy = dir.resolve(minimal.image().getFileName());
        Files.copy(minimal.image(), copy);
        Files.copy(minimal.manifest(), dir.resolve(RuntimeManifest.FILE_NAME));
        try (var ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[]{42}), Files.size(copy) - 100);
        }
        assertThatThrownBy(() -> local.publish(publisher, copy, null, null)).isInstanceOf(PublishException.class)
                .hasMessageContaining("does not match its manifest");
        assertThatThrownBy(() -> local.publish(publisher, minimal.image(), null,
                ItemHash.sha256Of(new byte[]{1}))).isInstanceOf(PublishException.class).hasMessageContaining("cannot amend");
        assertThat(local.publications()).isEmpty();
    }

    @Test
    void imagesBuiltButNotPublishedAreListedUnderTheirImageHash() throws Exception {
        LocalRuntimes here = new LocalRuntimes(TestBuilds.kilnHome());
        boolean publishedThere = here.publications().stream().anyMatch(p -> p.imageSha256().equals(minimal.imageHash().value()));

        if (!publishedThere) {
            assertThat(here.entries()).anySatisfy(e -> {
                assertThat(e.name()).isEqualTo("built/minimal");
                assertThat(e.itemHash()).isEqualTo(minimal.imageHash());
                assertThat(e.origin()).isEqualTo(RuntimeOrigin.LOCAL);
            });
        }
    }
}
