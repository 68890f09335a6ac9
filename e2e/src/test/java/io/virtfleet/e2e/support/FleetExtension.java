package io.virtfleet.e2e.support;

import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ModifierSupport;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Field;
import java.util.List;

/**
 * The JUnit 5 side of {@link StartFleet}: one {@link Fleet} per test class, started in {@code beforeAll} (a
 * {@code BeforeAllCallback} runs before the class's own {@code @BeforeAll} methods) and closed in {@code afterAll}
 * (after the class's {@code @AfterAll} methods). A fleet that fails to start fails the class's tests, it does not
 * skip them.
 */
public final class FleetExtension implements BeforeAllCallback, AfterAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        for (Field f : fields(context)) {
            StartFleet how = f.getAnnotation(StartFleet.class);
            Fleet fleet = how.ownLibvirtd() ? Fleet.startWithLibvirtHosts(how.hosts())
                    : how.endpoints() ? Fleet.startWithEndpoints(how.hosts()) : Fleet.start(how.hosts());
            f.setAccessible(true);
            f.set(null, fleet);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        for (Field f : fields(context)) {
            f.setAccessible(true);
            Fleet fleet = (Fleet) f.get(null);
            if (fleet != null) {
                fleet.close();
                f.set(null, null);
            }
        }
    }

    private static List<Field> fields(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        List<Field> fields = AnnotationSupport.findAnnotatedFields(testClass, StartFleet.class,
                f -> true, HierarchyTraversalMode.TOP_DOWN);
        for (Field f : fields) {
            if (!ModifierSupport.isStatic(f) || f.getType() != Fleet.class) {
                throw new ExtensionConfigurationException("@StartFleet belongs on a static Fleet field, not on "
                        + testClass.getSimpleName() + "." + f.getName());
            }
        }
        return fields;
    }
}
