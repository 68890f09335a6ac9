package io.virtfleet.e2e.support;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a test class's {@code static Fleet} field: {@link FleetExtension} starts the fleet before the class's
 * {@code @BeforeAll} methods run and closes it after its {@code @AfterAll} methods, so those can build on it and
 * clean up their own additions while the fleet still runs.
 *
 * <pre>{@code
 * class HotplugTest {
 *     @StartFleet
 *     static Fleet fleet;
 * }</pre>
 */
@Target(ElementType.FIELD)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(FleetExtension.class)
public @interface StartFleet {
    /** Host suffixes, one node agent each (host names become {@code e2e-<id>-<suffix>}). */
    String[] hosts() default {"a"};

    /**
     * Each host on a libvirtd of its own ({@link Fleet#startWithLibvirtHosts}), for live migration; otherwise all
     * hosts share the machine's qemu:///system, told apart by their domain prefixes.
     */
    boolean ownLibvirtd() default false;

    /**
     * The operator's and agents' health and metrics ports on, served as the daemons' commands serve them by default
     * (HTTPS on every address, /metrics for authorized bearer tokens; {@link Fleet#startWithEndpoints}).
     */
    boolean endpoints() default false;
}
