package dev.kiln.core.message;

import static dev.kiln.core.message.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One row per rule: a valid message, one change, and the one error it must cause (path and the
 * words that tell the user what to fix). Each row also proves the rule reports nothing else.
 */
class MessageValidatorTest {

    record Case(String name, String base, Consumer<ObjectNode> change, String path, String reason) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final String PROGRAM = "program.json";
    private static final String INSTANCE = "instance.json";
    private static final String CONFIDENTIAL = "confidential_instance.json";
    private static final String STORE = "store";

    static Stream<Case> rules() {
        return Stream.of(
                // envelope
                new Case("unknown type", PROGRAM, set("/type", "\"FOO\""), "type", "unknown message type 'FOO' (expected PROGRAM, INSTANCE or STORE)"),
                new Case("aleph type Kiln does not handle", PROGRAM, set("/type", "\"AGGREGATE\""), "type", "'AGGREGATE' messages are not handled by Kiln"),
                new Case("lower-case type", PROGRAM, set("/type", "\"program\""), "type", "message types are upper-case ('PROGRAM')"),
                new Case("missing type", PROGRAM, remove("/type"), "type", "required: PROGRAM, INSTANCE or STORE"),
                new Case("missing chain", PROGRAM, remove("/chain"), "chain", "required"),
                new Case("blank sender", PROGRAM, set("/sender", "\"  \""), "sender", "required"),
                new Case("bad item_type", PROGRAM, set("/item_type", "\"blob\""), "item_type", "must be one of inline, storage, ipfs; got 'blob'"),
                new Case("missing item_type", PROGRAM, remove("/item_type"), "item_type", "required: inline, storage or ipfs"),
                new Case("negative time", PROGRAM, set("/time", "-1"), "time", "must be ≥ 0"),
                new Case("time in milliseconds", PROGRAM, set("/time", "1619017773895"), "time", "looks like milliseconds"),
                new Case("confirmed without confirmations", PROGRAM, remove("/confirmations"), "confirmations", "required when confirmed is true"),
                // program: type, code, runtime
                new Case("program machine type", PROGRAM, set("/content/type", "\"vm-instance\""), "content.type", "must be 'vm-function' for a PROGRAM, got 'vm-instance'"),
                new Case("missing owner address", PROGRAM, remove("/content/address"), "content.address", "required"),
                new Case("missing content time", PROGRAM, remove("/content/time"), "content.time", "required"),
                new Case("missing code", PROGRAM, remove("/content/code"), "content.code", "required"),
                new Case("unknown code encoding", PROGRAM, set("/content/code/encoding", "\"tar\""), "content.code.encoding", "must be one of plain, zip, squashfs; got 'tar'"),
                new Case("missing code encoding", PROGRAM, remove("/content/code/encoding"), "content.code.encoding", "required: one of plain, zip, squashfs"),
                new Case("code ref not a hash", PROGRAM, set("/content/code/ref", "\"xyz\""), "content.code.ref", "invalid item hash 'xyz': "),
                new Case("missing entrypoint", PROGRAM, remove("/content/code/entrypoint"), "content.code.entrypoint", "required when encoding is squashfs: 'module:app'"),
                new Case("missing entrypoint, plain code", PROGRAM, all(set("/content/code/encoding", "\"plain\""), remove("/content/code/entrypoint")),
                        "content.code.entrypoint", "required when encoding is plain: the name of the ASGI app variable"),
                new Case("entrypoint names a .py file", PROGRAM, set("/content/code/entrypoint", "\"main.py:app\""), "content.code.entrypoint", "drop the '.py' ('main:app')"),
                new Case("entrypoint without app", PROGRAM, set("/content/code/entrypoint", "\"main:\""), "content.code.entrypoint", "'' is not a Python name"),
                new Case("entrypoint module not Python", PROGRAM, set("/content/code/entrypoint", "\"my-app:app\""), "content.code.entrypoint", "'my-app' is not a Python module name"),
                new Case("asgi entrypoint without colon", PROGRAM, all(set("/content/code/interface", "\"asgi\""), set("/content/code/entrypoint", "\"main\"")),
                        "content.code.entrypoint", "must be 'module:app' for an ASGI program"),
                new Case("plain code with module:app", PROGRAM, set("/content/code/encoding", "\"plain\""), "content.code.entrypoint", "with encoding plain the code is one Python file"),
                new Case("unknown code interface", PROGRAM, set("/content/code/interface", "\"wsgi\""), "content.code.interface", "must be one of asgi, binary; got 'wsgi'"),
                new Case("missing runtime", PROGRAM, remove("/content/runtime"), "content.runtime", "required"),
                new Case("missing runtime ref", PROGRAM, remove("/content/runtime/ref"), "content.runtime.ref", "required"),
                new Case("runtime ref a bad CID", PROGRAM, set("/content/runtime/ref", "\"QmTooShort\""), "content.runtime.ref", "invalid item hash 'QmTooShort'"),
                // program: data, export, triggers, environment
                new Case("relative data mount", PROGRAM, set("/content/data/mount", "\"data\""), "content.data.mount", "must be an absolute path, got 'data'"),
                new Case("unknown data encoding", PROGRAM, set("/content/data/encoding", "\"rar\""), "content.data.encoding", "must be one of plain, zip, squashfs; got 'rar'"),
                new Case("data ref not a hash", PROGRAM, set("/content/data/ref", "\"abc\""), "content.data.ref", "invalid item hash 'abc'"),
                new Case("export without mount", PROGRAM, remove("/content/export/mount"), "content.export.mount", "required"),
                new Case("missing triggers", PROGRAM, remove("/content/on"), "content.on", "required: what starts the program"),
                new Case("nothing starts the program", PROGRAM, all(set("/content/on/http", "false"), remove("/content/on/message")),
                        "content.on", "nothing starts this program"),
                new Case("subscription not an object", PROGRAM, set("/content/on/message/0", "\"TEST\""), "content.on.message[0]", "must be an object of message filters"),
                new Case("confidential program", PROGRAM, set("/content/environment/trusted_execution", "{}"), "content.environment.trusted_execution", "available to instances only"),
                new Case("program choosing a hypervisor", PROGRAM, set("/content/environment/hypervisor", "\"qemu\""), "content.environment.hypervisor", "only an INSTANCE chooses"),
                // resources, variables, keys
                new Case("no vCPU", PROGRAM, set("/content/resources/vcpus", "0"), "content.resources.vcpus", "must be ≥ 1, got 0"),
                new Case("too many vCPUs", PROGRAM, set("/content/resources/vcpus", "1000"), "content.resources.vcpus", "must be ≤ 256, got 1000"),
                new Case("no memory", PROGRAM, set("/content/resources/memory", "0"), "content.resources.memory", "must be ≥ 1, got 0"),
                new Case("memory in bytes", PROGRAM, set("/content/resources/memory", "536870912"), "content.resources.memory", "must be ≤ 1048576 MiB (1 TiB; memory is counted in MiB, not bytes)"),
                new Case("no seconds", PROGRAM, set("/content/resources/seconds", "0"), "content.resources.seconds", "must be ≥ 1, got 0"),
                new Case("centuries of seconds", PROGRAM, set("/content/resources/seconds", "99999999999"), "content.resources.seconds", "must be ≤ 315360000"),
                new Case("variable name with a space", PROGRAM, set("/content/variables/BAD NAME", "\"x\""), "content.variables[\"BAD NAME\"]", "not a usable environment variable name"),
                new Case("null variable", PROGRAM, set("/content/variables/EMPTY", "null"), "content.variables.EMPTY", "must be a string, got null"),
                new Case("not an SSH key", PROGRAM, set("/content/authorized_keys", "[\"hello world\"]"), "content.authorized_keys[0]", "not an SSH public key"),
                new Case("two keys in one entry", INSTANCE, set("/content/authorized_keys/0",
                        "\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlGJRaIv/EzNT0eNqNB5DiGEbii28Fb2zCjuO/bMu7y a\\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlGJRaIv/EzNT0eNqNB5DiGEbii28Fb2zCjuO/bMu7y b\""),
                        "content.authorized_keys[0]", "must be a single line"),
                // volumes
                new Case("relative volume mount", PROGRAM, set("/content/volumes/1/mount", "\"var/lib/x\""), "content.volumes[1].mount", "must be an absolute path, got 'var/lib/x'"),
                new Case("volume mount with ..", PROGRAM, set("/content/volumes/0/mount", "\"/opt/../etc\""), "content.volumes[0].mount", "without '.', '..', '//' or a trailing '/'"),
                new Case("volume over /", PROGRAM, set("/content/volumes/0/mount", "\"/\""), "content.volumes[0].mount", "cannot be '/'"),
                new Case("volume under /proc", PROGRAM, set("/content/volumes/0/mount", "\"/proc/x\""), "content.volumes[0].mount", "under /proc, which the guest kernel owns"),
                new Case("duplicate volume mounts", PROGRAM, set("/content/volumes/1/mount", "\"/opt/venv\""), "content.volumes[1].mount",
                        "'/opt/venv' is already the mount point of content.volumes[0].mount"),
                new Case("volume over the data mount", PROGRAM, set("/content/volumes/1/mount", "\"/data\""), "content.volumes[1].mount",
                        "'/data' is already the mount point of content.data.mount"),
                new Case("program volume without mount", PROGRAM, remove("/content/volumes/0/mount"), "content.volumes[0].mount", "required"),
                new Case("immutable volume ref not a hash", PROGRAM, set("/content/volumes/0/ref", "\"nothex\""), "content.volumes[0].ref", "invalid item hash 'nothex'"),
                new Case("immutable volume without ref", PROGRAM, remove("/content/volumes/0/ref"), "content.volumes[0].ref", "required for an immutable volume"),
                new Case("unknown persistence", PROGRAM, set("/content/volumes/1/persistence", "\"disk\""), "content.volumes[1].persistence", "must be one of host, store; got 'disk'"),
                new Case("volume name climbing out", PROGRAM, set("/content/volumes/1/name", "\"../../etc/passwd\""), "content.volumes[1].name", "must be 1–64 letters, digits"),
                new Case("persistent volume without name", PROGRAM, remove("/content/volumes/1/name"), "content.volumes[1].name", "required"),
                new Case("empty persistent volume", PROGRAM, set("/content/volumes/1/size_mib", "0"), "content.volumes[1].size_mib", "must be ≥ 1, got 0"),
                new Case("huge persistent volume", PROGRAM, set("/content/volumes/1/size_mib", "3000000"), "content.volumes[1].size_mib", "must be ≤ 2097152 MiB"),
                new Case("persistent volume with ref", PROGRAM, set("/content/volumes/1/ref", "\"5f31b0706f59404fad3d0bff97ef89ddf24da4761608ea0646329362c662ba51\""),
                        "content.volumes[1].ref", "belongs to an immutable volume, but this volume is persistent (it has persistence, name or parent); to start a persistent volume from an image, use parent.ref"),
                new Case("persistent parent ref not a hash", PROGRAM, set("/content/volumes/1/parent", "{\"ref\": \"nope\"}"), "content.volumes[1].parent.ref", "invalid item hash 'nope'"),
                new Case("duplicate persistent names", PROGRAM, set("/content/volumes/2", "{\"mount\": \"/srv\", \"name\": \"data\", \"persistence\": \"host\", \"size_mib\": 5}"),
                        "content.volumes[2].name", "'data' is already used by content.volumes[1].name"),
                new Case("huge ephemeral volume", PROGRAM, set("/content/volumes/1", "{\"ephemeral\": true, \"mount\": \"/tmp/x\", \"size_mib\": 5000}"),
                        "content.volumes[1].size_mib", "must be ≤ 1000 MiB"),
                new Case("ephemeral false", PROGRAM, set("/content/volumes/1", "{\"ephemeral\": false, \"mount\": \"/tmp/x\", \"size_mib\": 5}"),
                        "content.volumes[1].ephemeral", "must be true for an ephemeral volume"),
                new Case("ephemeral without size", PROGRAM, set("/content/volumes/1", "{\"ephemeral\": true, \"mount\": \"/tmp/x\"}"),
                        "content.volumes[1].size_mib", "required"),
                new Case("instance volume with relative mount", INSTANCE, set("/content/volumes/0/mount", "\"venv\""), "content.volumes[0].mount", "must be an absolute path"),
                // instance
                new Case("instance without rootfs", INSTANCE, remove("/content/rootfs"), "content.rootfs", "required"),
                new Case("rootfs without parent", INSTANCE, remove("/content/rootfs/parent"), "content.rootfs.parent", "required"),
                new Case("rootfs parent ref not a hash", INSTANCE, set("/content/rootfs/parent/ref", "\"bad\""), "content.rootfs.parent.ref", "invalid item hash 'bad'"),
                new Case("rootfs persistence", INSTANCE, set("/content/rootfs/persistence", "\"cloud\""), "content.rootfs.persistence", "must be one of host, store; got 'cloud'"),
                new Case("empty rootfs", INSTANCE, set("/content/rootfs/size_mib", "0"), "content.rootfs.size_mib", "must be ≥ 1, got 0"),
                new Case("rootfs without size", INSTANCE, remove("/content/rootfs/size_mib"), "content.rootfs.size_mib", "required"),
                new Case("unknown hypervisor", INSTANCE, set("/content/environment/hypervisor", "\"xen\""), "content.environment.hypervisor", "must be one of firecracker, qemu; got 'xen'"),
                new Case("confidential on firecracker", CONFIDENTIAL, set("/content/environment/hypervisor", "\"firecracker\""),
                        "content.environment.trusted_execution", "confidential execution needs \"hypervisor\": \"qemu\", got 'firecracker'"),
                new Case("confidential without hypervisor", CONFIDENTIAL, remove("/content/environment/hypervisor"),
                        "content.environment.trusted_execution", "(none given)"),
                new Case("firmware not a hash", CONFIDENTIAL, set("/content/environment/trusted_execution/firmware", "\"abc\""),
                        "content.environment.trusted_execution.firmware", "invalid item hash 'abc'"),
                new Case("negative SEV policy", CONFIDENTIAL, set("/content/environment/trusted_execution/policy", "-1"),
                        "content.environment.trusted_execution.policy", "must be ≥ 0"),
                // store
                new Case("inline STORE", STORE, set("/content/item_type", "\"inline\""), "content.item_type", "a STORE message publishes a file"),
                new Case("storage with a CID", STORE, set("/content/item_hash", "\"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG\""),
                        "content.item_hash", "item_type storage needs the file's SHA-256"),
                new Case("ipfs with a SHA-256", STORE, set("/content/item_type", "\"ipfs\""), "content.item_hash", "item_type ipfs needs an IPFS CID"),
                new Case("file hash not a hash", STORE, set("/content/item_hash", "\"zzz\""), "content.item_hash", "invalid item hash 'zzz'"),
                new Case("missing file hash", STORE, remove("/content/item_hash"), "content.item_hash", "required"),
                new Case("amend ref not a hash", STORE, set("/content/ref", "\"nope\""), "content.ref", "invalid item hash 'nope'"),
                new Case("negative size", STORE, set("/content/size", "-1"), "content.size", "must be ≥ 0"),
                new Case("STORE without owner", STORE, remove("/content/address"), "content.address", "required"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void eachRuleReportsOneErrorWithPathAndReason(Case c) {
        ObjectNode tree = base(c.base());
        c.change().accept(tree);

        List<ValidationError> errors = MessageValidator.validate(AlephMessages.parse(Fixtures.write(tree)));

        assertThat(errors).singleElement().satisfies(e -> {
            assertThat(e.path()).isEqualTo(c.path());
            assertThat(e.reason()).contains(c.reason());
        });
    }

    @Test
    void baseMessagesAreValid() {
        for (String base : List.of(PROGRAM, INSTANCE, CONFIDENTIAL, STORE)) {
            assertThat(MessageValidator.validate(AlephMessages.parse(Fixtures.write(base(base))))).as(base).isEmpty();
        }
    }

    @Test
    void reportsEveryProblemAtOnce() {
        ObjectNode tree = Fixtures.tree(PROGRAM);
        Fixtures.set(tree, "/type", json("\"PROGRAM\""));
        Fixtures.set(tree, "/content/resources/memory", json("0"));
        Fixtures.set(tree, "/content/code/ref", json("\"xyz\""));
        Fixtures.set(tree, "/content/volumes/1/mount", json("\"data\""));
        Fixtures.remove(tree, "/sender");

        List<ValidationError> errors = MessageValidator.validate(AlephMessages.parse(Fixtures.write(tree)));

        assertThat(errors).extracting(ValidationError::path).containsExactlyInAnyOrder(
                "sender", "content.code.ref", "content.resources.memory", "content.volumes[1].mount");
        assertThat(errors).extracting(ValidationError::toString).contains("content.resources.memory: must be ≥ 1, got 0");
    }

    @Test
    void instanceVolumesNeedNoMountPoint() {
        ObjectNode tree = Fixtures.tree(INSTANCE);
        Fixtures.remove(tree, "/content/volumes/0/mount");

        assertThat(MessageValidator.validate(AlephMessages.parse(Fixtures.write(tree)))).isEmpty();
    }

    @Test
    void contentIsRequired() {
        ObjectNode tree = Fixtures.tree(PROGRAM);
        Fixtures.remove(tree, "/content");
        Fixtures.remove(tree, "/item_content");

        assertThat(MessageValidator.validate(AlephMessages.parse(Fixtures.write(tree))))
                .extracting(ValidationError::toString)
                .containsExactly("content: required: give content, or item_content holding it");
    }

    @Test
    void contentOfTheWrongKindIsRefused() {
        AlephMessage program = AlephMessages.parse(Fixtures.text(PROGRAM));
        AlephMessage mislabelled = new AlephMessage(program.chain(), program.sender(), "STORE", null, "inline",
                program.itemContent(), program.itemHash(), null, null, program.time(), program.content(), true,
                null, null, null, java.util.Map.of());

        assertThat(MessageValidator.validate(mislabelled)).extracting(ValidationError::toString)
                .containsExactly("content: holds ProgramContent but the message type is STORE");
    }

    private static ObjectNode base(String name) {
        if (!name.equals(STORE)) return Fixtures.tree(name);
        ItemHash file = ItemHash.sha256Of("a runtime image".getBytes(StandardCharsets.UTF_8));
        StoreContent content = StoreContent.of("0x9319Ad3B7A8E0eE24f2E639c40D8eD124C5520Ba", file, AlephTime.of(Instant.ofEpochSecond(1_700_000_000)));
        return Fixtures.parseTree(AlephMessages.toJson(AlephMessage.inline("ETH", content.address(), "TEST", content, Instant.ofEpochSecond(1_700_000_000))));
    }

    private static Consumer<ObjectNode> set(String pointer, String value) {
        return tree -> Fixtures.set(tree, pointer, json(value));
    }

    private static Consumer<ObjectNode> remove(String pointer) {
        return tree -> Fixtures.remove(tree, pointer);
    }

    private static Consumer<ObjectNode> all(Consumer<ObjectNode> first, Consumer<ObjectNode> second) {
        return first.andThen(second);
    }
}
