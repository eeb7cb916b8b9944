package dev.kiln.node.program;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.Code;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Environment;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.Triggers;
import dev.kiln.core.message.ProgramRuntime;
import dev.kiln.core.message.ValidationError;
import dev.kiln.store.records.RecordsException;
import dev.kiln.node.records.ProgramRecord;
import dev.kiln.node.records.ProgramRecords;
import dev.kiln.store.KilnHome;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Publishes programs on this node the way aleph-client does it on the network: the code is packed
 * and published as a STORE message (LocalPublisher), then a PROGRAM message referencing it and the
 * runtime is written and recorded. The message is unsigned: the node trusts its own user.
 */
public final class ProgramPublisher {
    /** The chain and channel Kiln's local messages claim (LocalPublisher uses the same). */
    static final String CHAIN = "ETH";
    static final String CHANNEL = "KILN";

    private final KilnHome home;
    private final LocalPublisher store;
    private final StoreRecords storeRecords;
    private final ProgramRecords programs;

    public ProgramPublisher(KilnHome home, LocalPublisher store, StoreRecords storeRecords, ProgramRecords programs) {
        this.home = home;
        this.store = store;
        this.storeRecords = storeRecords;
        this.programs = programs;
    }

    /**
     * Packs (if {@code spec.source()} is a directory), publishes the code and records the PROGRAM
     * message. A program with the same name, code, entrypoint, runtime, resources and variables is
     * returned as it is rather than published again.
     */
    public PublishedProgram publish(ProgramSpec spec) throws IOException, PackagingException, RecordsException,
            InterruptedException {
        Path codeFile = spec.source();
        Path packed = null;
        if (Files.isDirectory(spec.source())) {
            EntrypointCheck.check(spec.source(), spec.entrypoint(), spec.codeInterface());
            Files.createDirectories(home.tmp());
            packed = Files.createTempFile(home.tmp(), "program-", spec.encoding() == Encoding.ZIP ? ".zip" : ".squashfs");
            codeFile = CodePackager.pack(spec.source(), spec.encoding(), packed);
        } else if (!Files.isRegularFile(spec.source())) {
            throw new PackagingException(spec.source() + " does not exist: give the program's directory or its packed file");
        }
        try {
            ItemHash fileHash = ItemHash.sha256Of(codeFile);
            // A record may outlive its blob (quarantined as corrupted, removed): reusing the
            // record must bring the bytes back, or the program stays broken while we say "done".
            if (publishedFile(fileHash).isPresent()) store.restoreBlob(codeFile, fileHash);
            Optional<PublishedProgram> same = findSame(spec, fileHash);
            if (same.isPresent()) return same.get();
            StoreRecord code = publishedFile(fileHash).orElse(null);
            if (code == null) code = store.publish(codeFile, null);
            Instant now = Instant.now();
            String iface = spec.codeInterface() == null ? null : spec.codeInterface().wire();
            ProgramContent.Builder builder = ProgramContent.builder()
                    .address(store.sender())
                    .time(now)
                    .code(new Code(spec.encoding().wire(), spec.entrypoint(), code.messageHash().value(), false, iface,
                            null, Map.of()))
                    .runtime(ProgramRuntime.of(spec.runtime(), spec.runtimeComment() == null ? "" : spec.runtimeComment()))
                    .resources(spec.resources());
            // Aleph's persistent programs also answer HTTP: on.http stays true, so /vm/<hash> reaches them.
            if (spec.persistent()) builder.on(new Triggers(true, null, true, Map.of()));
            if (spec.internet()) builder.environment(new Environment(false, true, false, false, null, null, Map.of()));
            spec.variables().forEach(builder::variable);
            spec.volumes().forEach(builder::volume);
            ProgramContent content = builder.build();
            AlephMessage message = AlephMessage.inline(CHAIN, store.sender(), CHANNEL, content, now);
            List<ValidationError> problems = AlephMessages.check(message);
            if (!problems.isEmpty()) {
                throw new PackagingException("the program would be refused: " + problems.stream()
                        .map(ValidationError::toString).collect(Collectors.joining("; ")));
            }
            programs.add(new ProgramRecord(message.hash(), store.sender(), spec.name(), now, AlephMessages.toJson(message)));
            return new PublishedProgram(message.hash(), code.messageHash(), fileHash, spec.runtime(), false);
        } finally {
            if (packed != null) Files.deleteIfExists(packed);
        }
    }

    /** A STORE message from this machine for exactly this file, if one was published before. */
    private Optional<StoreRecord> publishedFile(ItemHash fileHash) throws IOException {
        String me = StoreRecordsOwner.of(store.sender());
        return storeRecords.list().stream()
                .filter(r -> r.fileHash().equals(fileHash) && r.ref() == null && r.owner().equals(me))
                .reduce((a, b) -> b);
    }

    private Optional<PublishedProgram> findSame(ProgramSpec spec, ItemHash fileHash) throws IOException, RecordsException {
        Optional<StoreRecord> code = publishedFile(fileHash);
        if (code.isEmpty()) return Optional.empty();
        for (ProgramRecord r : programs.list().reversed()) {
            if (spec.name() != null && !spec.name().equals(r.name())) continue;
            ProgramContent p;
            try {
                p = AlephMessages.parse(r.messageJson()).contentAs(ProgramContent.class);
            } catch (RuntimeException unreadable) {
                continue;
            }
            boolean same = p.code().ref().equals(code.get().messageHash().value())
                    && p.code().encoding().equals(spec.encoding().wire())
                    && p.entrypoint().equals(spec.entrypoint())
                    && java.util.Objects.equals(p.code().codeInterface(), spec.codeInterface() == null ? null : spec.codeInterface().wire())
                    && p.runtime().ref().equals(spec.runtime().value())
                    && p.resourcesOrDefault().equals(spec.resources().withDefaults())
                    && p.variablesOrEmpty().equals(spec.variables())
                    && p.volumesOrEmpty().equals(spec.volumes())
                    && (p.environment() != null && p.environment().hasInternet()) == spec.internet()
                    && p.isPersistent() == spec.persistent();
            if (same) {
                return Optional.of(new PublishedProgram(r.messageHash(), code.get().messageHash(), fileHash, spec.runtime(), true));
            }
        }
        return Optional.empty();
    }

    /** StoreRecord's owner rule (case-insensitive Ethereum addresses), for comparing with records. */
    private static final class StoreRecordsOwner {
        static String of(String sender) {
            return sender.matches("0x[0-9a-fA-F]{40}") ? sender.toLowerCase(java.util.Locale.ROOT) : sender;
        }
    }
}
