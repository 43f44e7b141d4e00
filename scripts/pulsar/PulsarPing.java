// Health check for the test Pulsar standalone: one produce/consume round trip through the
// broker (topic auto-creation, the bookie's write path and dispatch all work).
//
//   java -cp CLASSES:LIB/* PulsarPing pulsar://HOST:PORT    exit 0 when healthy, 1 otherwise
//
// Compiled by scripts/e2e-env.sh against the broker's own classpath (it holds the Java
// client), so nothing else is downloaded. Every wait is bounded.
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;

public class PulsarPing {
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: PulsarPing pulsar://HOST:PORT");
      System.exit(2);
    }
    String topic = "persistent://public/default/cdc-health-check";
    String payload = "ping-" + UUID.randomUUID();
    try (PulsarClient client = PulsarClient.builder().serviceUrl(args[0])
             .operationTimeout(10, TimeUnit.SECONDS).connectionTimeout(5, TimeUnit.SECONDS)
             .build();
         Consumer<byte[]> consumer = client.newConsumer().topic(topic)
             .subscriptionName("cdc-health-" + UUID.randomUUID())
             .subscriptionInitialPosition(SubscriptionInitialPosition.Latest).subscribe();
         Producer<byte[]> producer = client.newProducer().topic(topic)
             .sendTimeout(10, TimeUnit.SECONDS).create()) {
      producer.send(payload.getBytes(StandardCharsets.UTF_8));
      Message<byte[]> m = consumer.receive(10, TimeUnit.SECONDS);
      if (m == null) {
        System.err.println("no message back from " + topic + " within 10 s");
        System.exit(1);
      }
      String got = new String(m.getData(), StandardCharsets.UTF_8);
      consumer.acknowledge(m);
      consumer.unsubscribe();
      if (!got.equals(payload)) {
        System.err.println("round trip on " + topic + " returned '" + got + "', sent '" + payload + "'");
        System.exit(1);
      }
      System.out.println("round trip ok on " + topic + " (message id " + m.getMessageId() + ")");
    }
    System.exit(0);
  }
}
