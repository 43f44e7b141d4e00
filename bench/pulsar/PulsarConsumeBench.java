// Reference consumer for bench/pulsar: Pulsar's own Java client reads a topic from the earliest
// message and reports how long it took, for comparison with our C++ client in the same run.
//
//   java -cp CLASSES:LIB/* PulsarConsumeBench pulsar://HOST:PORT TOPIC COUNT [RECEIVER_QUEUE]
//
// Prints one JSON line {"messages":N,"bytes":B,"seconds":S}. The clock starts when subscribe is
// called (JVM start-up is not counted) and stops at the COUNT-th message. Every wait is bounded.
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.client.api.SubscriptionMode;
import org.apache.pulsar.client.api.SubscriptionType;

public class PulsarConsumeBench {
  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: PulsarConsumeBench URL TOPIC COUNT [RECEIVER_QUEUE]");
      System.exit(2);
    }
    long want = Long.parseLong(args[2]);
    int queue = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
    try (PulsarClient client = PulsarClient.builder().serviceUrl(args[0])
             .operationTimeout(10, TimeUnit.SECONDS).connectionTimeout(5, TimeUnit.SECONDS)
             .build()) {
      long t0 = System.nanoTime();
      Consumer<byte[]> consumer = client.newConsumer().topic(args[1])
          .subscriptionName("bench-java-" + UUID.randomUUID())
          .subscriptionType(SubscriptionType.Exclusive)
          .subscriptionMode(SubscriptionMode.NonDurable)
          .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
          .receiverQueueSize(queue).subscribe();
      long n = 0;
      long bytes = 0;
      while (n < want) {
        Message<byte[]> m = consumer.receive(30, TimeUnit.SECONDS);
        if (m == null) {
          System.err.println("no message within 30 s after " + n + " of " + want);
          System.exit(1);
        }
        n++;
        bytes += m.getData().length;
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      consumer.close();
      System.out.printf("{\"messages\":%d,\"bytes\":%d,\"seconds\":%.6f}%n", n, bytes, secs);
    }
    System.exit(0);
  }
}
