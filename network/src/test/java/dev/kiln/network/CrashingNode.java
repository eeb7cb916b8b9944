package dev.kiln.network;

import java.util.List;

/**
 * A node's networking in a process of its own, for the crash test: started with
 * {@code ip netns exec NS java … CrashingNode}, exactly as a node would be, it attaches one VM on
 * a real TAP, says "ready" and waits to be killed with SIGKILL, so nothing of it is cleaned up.
 */
public final class CrashingNode {

    private CrashingNode() {
    }

    public static void main(String[] args) throws InterruptedException {
        NetworkSettings settings = NetworkSettings.defaults().withDns(List.of(Ipv4Address.parse(args[0])));
        NodeNetwork network = NodeNetwork.start(settings, HostCommands.current());
        if (!(network.support() instanceof NetworkSupport.Supported)) {
            System.out.println(network.support().describe());
            System.exit(2);
        }
        VmNetwork vm = network.attach("crash", "8920215b2e961a4d4c59a8ceb2803af53f91530ff53d6704273ab4d380bc6446",
                VmKind.PROGRAM, List.of(PublishedPort.tcp(8000)));
        System.out.println("ready " + vm.interfaceName());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
