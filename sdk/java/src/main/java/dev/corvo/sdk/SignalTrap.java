package dev.corvo.sdk;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SIGTERM and SIGINT while a worker runs: the first asks for a graceful drain, a second one
 * for an immediate stop. The JVM's own handlers (which would start the shutdown sequence and
 * exit with 143 or 130) are replaced for that time and put back afterwards, so {@code run()}
 * returns normally after the drain. Uses {@code sun.misc.Signal} (module {@code
 * jdk.unsupported}) through reflection; where it is missing, nothing is installed and the
 * worker's shutdown hook still drains on JVM exit.
 */
final class SignalTrap implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("dev.corvo.sdk.Worker");
  private static final String[] SIGNALS = {"TERM", "INT"};

  private final List<Object[]> previous = new ArrayList<>();
  private Method handle;

  private SignalTrap() {}

  static SignalTrap install(Runnable first, Runnable second) {
    SignalTrap trap = new SignalTrap();
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
      trap.handle = signal.getMethod("handle", signal, handlerType);
      AtomicInteger received = new AtomicInteger();
      Object handler =
          Proxy.newProxyInstance(
              SignalTrap.class.getClassLoader(),
              new Class<?>[] {handlerType},
              (proxy, method, args) -> {
                switch (method.getName()) {
                  case "handle" -> {
                    LOG.log(System.Logger.Level.INFO, "received {0}", args[0]);
                    (received.incrementAndGet() == 1 ? first : second).run();
                    return null;
                  }
                  case "equals" -> {
                    return proxy == args[0];
                  }
                  case "hashCode" -> {
                    return System.identityHashCode(proxy);
                  }
                  default -> {
                    return "corvo worker signal handler";
                  }
                }
              });
      for (String name : SIGNALS) {
        Object sig = signal.getConstructor(String.class).newInstance(name);
        try {
          trap.previous.add(new Object[] {sig, trap.handle.invoke(null, sig, handler)});
        } catch (ReflectiveOperationException | RuntimeException e) {
          LOG.log(System.Logger.Level.DEBUG, "cannot handle SIG{0}: {1}", name, e);
        }
      }
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "signal handling unavailable ({0}); relying on the shutdown hook", e);
    }
    return trap;
  }

  /** Puts the previous handlers back. */
  @Override
  public void close() {
    for (Object[] p : previous) {
      try {
        handle.invoke(null, p[0], p[1]);
      } catch (ReflectiveOperationException | RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "cannot restore a signal handler: {0}", e);
      }
    }
    previous.clear();
  }
}
