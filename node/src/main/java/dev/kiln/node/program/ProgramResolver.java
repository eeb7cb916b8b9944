package dev.kiln.node.program;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.EphemeralVolume;
import dev.kiln.core.message.ExecutableContent;
import dev.kiln.core.message.ImmutableVolume;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.core.message.MessageFormatException;
import dev.kiln.core.message.MessageType;
import dev.kiln.core.message.ParentVolume;
import dev.kiln.core.message.Persistence;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.ProgramData;
import dev.kiln.core.message.ValidationError;
import dev.kiln.core.message.Volume;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.records.ProgramRecord;
import dev.kiln.node.records.ProgramRecords;
import dev.kiln.store.BlobNotFoundException;
import dev.kiln.store.CorruptBlobException;
import dev.kiln.store.FetchFailedException;
import dev.kiln.store.Fetcher;
import dev.kiln.store.InvalidStoreMessageException;
import dev.kiln.store.ItemResolver;
import dev.kiln.store.failure.HashMismatchException;
import dev.kiln.store.failure.UnverifiableHashException;
import dev.kiln.store.records.RecordsException;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.remote.DownloadProgress;
import dev.kiln.store.remote.DownloadTooLargeException;
import dev.kiln.store.remote.RemoteNotFoundException;
import dev.kiln.store.remote.RemoteUnavailableException;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns a program's item hash into a {@link ResolvedProgram}: finds its PROGRAM message (recorded
 * here, else fetched from a remote and recorded), checks it whole (validation and integrity, every
 * problem reported with its field path), and resolves its code, runtime, volumes and data to
 * verified local files, honouring each reference's {@code use_latest}.
 *
 * <p>Nothing is kept from a failed resolution: a corrupted blob is quarantined by the store and the
 * next request starts over.
 */
public final class ProgramResolver {
    private static final System.Logger LOG = System.getLogger(ProgramResolver.class.getName());

    private final ProgramRecords programs;
    private final ItemResolver items;
    private final Fetcher fetcher;

    public ProgramResolver(ProgramRecords programs, ItemResolver items, Fetcher fetcher) {
        this.programs = programs;
        this.items = items;
        this.fetcher = fetcher;
    }

    public ResolvedProgram resolve(ItemHash programHash) throws NodeException {
        AlephMessage message = message(programHash);
        ProgramContent p = message.contentAs(ProgramContent.class);
        boolean byMessage = FOR_MESSAGE.isBound() && p.on() != null && !p.on().subscriptions().isEmpty();
        if (!byMessage && !startedByHttp(p)) throw notHttp(programHash);
        List<ProgramContract.Refusal> refused = ProgramContract.refusals(p);
        if (!refused.isEmpty()) {
            throw new NodeException(ErrorCode.UNSUPPORTED, "program " + programHash + " uses what this node does not do: "
                    + refused.getFirst() + (refused.size() > 1 ? " (and " + (refused.size() - 1) + " more, see details)" : ""),
                    refused.stream().map(r -> new NodeException.Detail(r.field(), r.reason())).toList(), null);
        }
        ResolvedItem code = item("content.code.ref", p.codeRef(), p.code().useLatestOrDefault());
        ResolvedItem runtime = item("content.runtime.ref", p.runtimeRef(), p.runtime().useLatestOrDefault());
        List<ResolvedProgram.MountedVolume> volumes = new ArrayList<>();
        List<ResolvedProgram.Scratch> scratch = new ArrayList<>();
        List<ResolvedProgram.Kept> kept = new ArrayList<>();
        List<Volume> declared = p.volumesOrEmpty();
        for (int i = 0; i < declared.size(); i++) {
            String field = "content.volumes[" + i + "]";
            switch (declared.get(i)) {
                case ImmutableVolume v -> volumes.add(new ResolvedProgram.MountedVolume(
                        item(field + ".ref", v.refHash(), v.useLatestOrDefault()), v.mount()));
                case EphemeralVolume v -> scratch.add(new ResolvedProgram.Scratch(v.sizeMib(), v.mount()));
                case PersistentVolume v -> kept.add(persistent(field, v, p.address()));
            }
        }
        ResolvedItem data = null;
        ProgramData d = p.data();
        if (d != null && d.refHash().isPresent()) {
            if (d.knownEncoding().orElse(null) != Encoding.ZIP) {
                throw new NodeException(ErrorCode.UNSUPPORTED, "content.data.encoding is '" + d.encoding()
                        + "'; this node unpacks data archives in zip encoding only");
            }
            data = item("content.data.ref", d.refHash().get(), d.useLatestOrDefault());
        }
        return new ResolvedProgram(programHash, p, code, runtime, volumes, scratch, kept, data);
    }

    /**
     * Bound while a message is being delivered: a program subscribed to messages may then start
     * even though HTTP requests do not start it ({@code on.http} false).
     */
    public static final ScopedValue<Boolean> FOR_MESSAGE = ScopedValue.newInstance();

    /** Whether HTTP requests reach the program: {@code on.http}, or a persistent program (which answers HTTP too). */
    public static boolean startedByHttp(ProgramContent p) {
        return p.on() != null && (p.on().onHttp() || p.on().isPersistent());
    }

    /** What an HTTP request to a program that HTTP does not start gets. */
    public static NodeException notHttp(ItemHash programHash) {
        return new NodeException(ErrorCode.UNSUPPORTED, "program " + programHash
                + " is not started by HTTP requests (content.on.http is false); publish it with on.http = true");
    }

    private ResolvedProgram.Kept persistent(String field, PersistentVolume v, String owner) throws NodeException {
        if (v.knownPersistence().orElse(null) != Persistence.HOST) {
            throw new NodeException(ErrorCode.UNSUPPORTED, field + ".persistence is '" + v.persistence()
                    + "'; this node keeps persistent volumes on its own disk only (persistence: host): volumes stored"
                    + " on the aleph network need the network's storage, which a Kiln node does not reach");
        }
        ResolvedItem parent = v.parent() == null ? null
                : item(field + ".parent.ref", v.parent().refHash(), v.parent().useLatestOrDefault());
        return new ResolvedProgram.Kept(owner, v.name(), v.sizeMib(), v.mount(), parent);
    }

    /**
     * Every reference of PROGRAM or INSTANCE content — code, runtime or root filesystem parent,
     * immutable volumes, persistent volume parents, data — resolved to a verified local file (fetched
     * from a remote if this node lacks it), in the message's order. Nothing is refused here: this is
     * what {@code kiln message publish} checks before recording a message.
     */
    public List<ResolvedItem> references(ExecutableContent content) throws NodeException {
        List<ResolvedItem> out = new ArrayList<>();
        if (content instanceof ProgramContent p) {
            out.add(item("content.code.ref", p.codeRef(), p.code().useLatestOrDefault()));
            out.add(item("content.runtime.ref", p.runtimeRef(), p.runtime().useLatestOrDefault()));
        } else if (content instanceof InstanceContent i && i.rootfs() != null && i.rootfs().parent() != null) {
            ParentVolume parent = i.rootfs().parent();
            out.add(item("content.rootfs.parent.ref", parent.refHash(), parent.useLatestOrDefault()));
        }
        List<Volume> declared = content.volumes() == null ? List.of() : content.volumes();
        for (int i = 0; i < declared.size(); i++) {
            String field = "content.volumes[" + i + "]";
            switch (declared.get(i)) {
                case ImmutableVolume v -> out.add(item(field + ".ref", v.refHash(), v.useLatestOrDefault()));
                case PersistentVolume v when v.parent() != null ->
                        out.add(item(field + ".parent.ref", v.parent().refHash(), v.parent().useLatestOrDefault()));
                default -> {
                }
            }
        }
        if (content instanceof ProgramContent p && p.data() != null && p.data().refHash().isPresent()) {
            out.add(item("content.data.ref", p.data().refHash().get(), p.data().useLatestOrDefault()));
        }
        return out;
    }

    /** The program's message, checked; recorded here if it came from a remote. */
    public AlephMessage message(ItemHash programHash) throws NodeException {
        return message(programHash, MessageType.PROGRAM);
    }

    /**
     * A message of {@code type} (PROGRAM or INSTANCE: both are kept in the node's program records),
     * checked; recorded here if it came from a remote.
     */
    public AlephMessage message(ItemHash programHash, MessageType type) throws NodeException {
        String json = null;
        boolean fetched = false;
        try {
            Optional<ProgramRecord> local = programs.find(programHash);
            if (local.isPresent()) json = local.get().messageJson();
        } catch (RecordsException e) {
            throw new NodeException(ErrorCode.INTERNAL, "the node's program records cannot be read", e);
        }
        if (json == null) {
            json = fetchMessage(programHash);
            fetched = true;
        }
        AlephMessage m = check(programHash, json, type);
        if (fetched) {
            try {
                programs.add(new ProgramRecord(programHash, m.sender(), null, Instant.now(), json));
            } catch (RecordsException e) {
                LOG.log(System.Logger.Level.WARNING, "program " + programHash + " fetched but not recorded: " + e.getMessage());
            }
        }
        return m;
    }

    private String fetchMessage(ItemHash programHash) throws NodeException {
        if (fetcher.remotes().isEmpty()) {
            throw new NodeException(ErrorCode.PROGRAM_NOT_FOUND, "no program " + programHash + " on this node"
                    + " ('kiln program list' shows those it has; no remote is configured to fetch others from)");
        }
        try {
            return fetcher.fetchMessage(programHash);
        } catch (RemoteNotFoundException | BlobNotFoundException e) {
            throw new NodeException(ErrorCode.PROGRAM_NOT_FOUND, "no program " + programHash
                    + " on this node or on its remotes", e);
        } catch (IOException e) {
            throw new NodeException(ErrorCode.REMOTE_UNAVAILABLE, "program " + programHash
                    + " is not on this node and the remotes could not be asked: " + e.getMessage(), e);
        }
    }

    static AlephMessage check(ItemHash programHash, String json) throws NodeException {
        return check(programHash, json, MessageType.PROGRAM);
    }

    static AlephMessage check(ItemHash programHash, String json, MessageType type) throws NodeException {
        AlephMessage m;
        try {
            m = AlephMessages.parse(json);
        } catch (MessageFormatException e) {
            String path = e.path() == null ? "(message)" : e.path();
            throw new NodeException(ErrorCode.INVALID_PROGRAM, "message " + programHash + " cannot be read: "
                    + e.getMessage(), List.of(new NodeException.Detail(path, e.reason())), e);
        }
        List<ValidationError> errors = new ArrayList<>(AlephMessages.check(m));
        if (!programHash.value().equals(m.itemHash())) {
            errors.addFirst(new ValidationError("item_hash", "the message is " + m.itemHash() + ", not " + programHash));
        }
        if (errors.isEmpty() && m.messageType().orElse(null) != type) {
            errors.add(new ValidationError("type", "is " + m.type() + (type == MessageType.PROGRAM
                    ? "; only PROGRAM messages run on demand (instances are allocated by the operator)"
                    : "; only " + type + " messages are allocated as " + type.name().toLowerCase(java.util.Locale.ROOT) + "s")));
        }
        if (!errors.isEmpty()) {
            String first = errors.getFirst().toString();
            throw new NodeException(ErrorCode.INVALID_PROGRAM, "program " + programHash + " is invalid: " + first
                    + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more problem" + (errors.size() > 2 ? "s" : "")
                    + ", see details)" : ""),
                    errors.stream().map(v -> new NodeException.Detail(v.path(), v.reason())).toList(), null);
        }
        return m;
    }

    /** One reference to a verified file; a corrupted local copy is a 400, not "missing". */
    public ResolvedItem item(String field, ItemHash ref, boolean useLatest) throws NodeException {
        try {
            ItemResolver.Resolved r = items.resolve(ref, useLatest, DownloadProgress.NONE);
            ItemHash used = r.message().map(StoreRecord::messageHash).orElse(r.fileHash());
            return new ResolvedItem(field, ref, used, r.fileHash(), r.file());
        } catch (CorruptBlobException e) {
            throw new NodeException(ErrorCode.INVALID_CODE, field + " " + ref + ": the stored file is corrupted"
                    + " (it no longer matches its hash " + e.corruption().expected() + "; it was moved to quarantine)."
                    + " Publish it again, or configure a remote that has it", e);
        } catch (HashMismatchException e) {
            throw new NodeException(ErrorCode.INVALID_CODE, field + " " + ref + ": the file does not match its hash: "
                    + e.getMessage(), e);
        } catch (BlobNotFoundException e) {
            throw new NodeException(ErrorCode.MISSING_ITEM, field + " " + ref + " cannot be found: " + e.getMessage(), e);
        } catch (InvalidStoreMessageException e) {
            throw new NodeException(ErrorCode.INVALID_PROGRAM, field + ": " + e.getMessage(),
                    List.of(new NodeException.Detail(field, e.getMessage())), e);
        } catch (UnverifiableHashException e) {
            throw new NodeException(ErrorCode.UNSUPPORTED, field + " " + ref + ": " + e.getMessage(), e);
        } catch (DownloadTooLargeException e) {
            throw new NodeException(ErrorCode.UNSUPPORTED, field + " " + ref + ": " + e.getMessage(), e);
        } catch (RemoteUnavailableException | FetchFailedException e) {
            throw new NodeException(ErrorCode.REMOTE_UNAVAILABLE, field + " " + ref + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new NodeException(ErrorCode.INTERNAL, field + " " + ref + " could not be resolved", e);
        }
    }
}
