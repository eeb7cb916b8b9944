package dev.kiln.node.update;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.ImmutableVolume;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.Volume;
import dev.kiln.node.program.ResolvedItem;
import dev.kiln.node.program.ResolvedProgram;
import java.util.ArrayList;
import java.util.List;

/**
 * A reference a running program follows with {@code use_latest}, and the STORE message its VM
 * was started with: when the reference's latest amend is another message, the VM runs an old
 * version.
 */
record FollowedRef(String field, ItemHash ref, ItemHash runningWith) {

    /** What {@code p} follows: runtime and immutable volumes by default, code and data when they ask. */
    static List<FollowedRef> of(ResolvedProgram p) {
        ProgramContent c = p.content();
        List<FollowedRef> out = new ArrayList<>();
        if (c.runtime() != null && c.runtime().useLatestOrDefault()) out.add(of(p.runtime()));
        if (c.code() != null && c.code().useLatestOrDefault()) out.add(of(p.code()));
        if (p.data() != null && c.data() != null && c.data().useLatestOrDefault()) out.add(of(p.data()));
        List<Volume> declared = c.volumesOrEmpty();
        int mounted = 0;
        for (Volume v : declared) {
            if (!(v instanceof ImmutableVolume iv)) continue;
            ResolvedProgram.MountedVolume m = p.volumes().get(mounted++);
            if (iv.useLatestOrDefault()) out.add(of(m.item()));
        }
        return out;
    }

    private static FollowedRef of(ResolvedItem item) {
        return new FollowedRef(item.field(), item.ref(), item.resolved());
    }
}
