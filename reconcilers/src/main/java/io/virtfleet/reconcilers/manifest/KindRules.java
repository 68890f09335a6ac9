package io.virtfleet.reconcilers.manifest;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineBackup;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.reconcilers.copy.BackupPlans;
import io.virtfleet.reconcilers.copy.ClonePlans;
import io.virtfleet.reconcilers.schema.SchemaRules;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.ObjectMetaRules;
import io.virtfleet.reconcilers.validation.ValidationContext;
import io.virtfleet.reconcilers.validation.VirtualMachineValidator;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything about a virtfleet object of any kind that can be decided without a cluster: what the apiserver's
 * schema requires and what the operator refuses before it looks anything up. Nothing here is a copy: a
 * VirtualMachine goes through {@link VirtualMachineValidator} (the operator's validation), every other kind through
 * the object-metadata rules, the CRD schema of its type ({@link SchemaRules}, the annotations the CRD is generated
 * from) and the request checks the operator's controllers call ({@link BackupPlans#requestErrors},
 * {@link ClonePlans#requestErrors}). What needs the cluster (the VM exists, the snapshot is ready, the host's own
 * allowed roots) is left to the operator.
 */
public final class KindRules {
    private KindRules() {
    }

    /** All errors of {@code object}, in field order within each source; empty when valid offline. */
    public static List<FieldError> validate(HasMetadata object, ValidationContext ctx) {
        ValidationContext c = ctx == null ? ValidationContext.defaults() : ctx;
        if (object instanceof VirtualMachine vm) {
            return VirtualMachineValidator.validate(vm, c);
        }
        Set<FieldError> errors = new LinkedHashSet<>(ObjectMetaRules.check(object.getMetadata()));
        Object spec = object instanceof CustomResource<?, ?> cr ? cr.getSpec() : null;
        if (spec == null) {
            spec = emptySpec(object);
        }
        if (spec != null) {
            errors.addAll(SchemaRules.check(spec, "spec"));
        }
        String name = object.getMetadata() != null ? object.getMetadata().getName() : null;
        if (object instanceof VirtualMachineBackup b) {
            errors.addAll(parse(BackupPlans.requestErrors(b.getSpec() != null ? b.getSpec().vmName : null,
                    b.getSpec() != null ? b.getSpec().destination : null, c.allowedDiskRoots(), name)));
        } else if (object instanceof VirtualMachineClone cl) {
            errors.addAll(parse(ClonePlans.requestErrors(cl.getSpec() != null ? cl.getSpec().source : null,
                    cl.getSpec() != null ? cl.getSpec().target : null)));
        }
        return new ArrayList<>(errors);
    }

    /** A missing spec is checked as an empty one: its required fields are what is missing. */
    private static Object emptySpec(HasMetadata object) {
        Type t = object.getClass().getGenericSuperclass();
        if (t instanceof ParameterizedType p && p.getActualTypeArguments()[0] instanceof Class<?> specType) {
            try {
                return specType.getConstructor().newInstance();
            } catch (ReflectiveOperationException e) {
                return null;
            }
        }
        return null;
    }

    /** The operator's plans word their refusals {@code field: message}. */
    private static List<FieldError> parse(List<String> refusals) {
        List<FieldError> out = new ArrayList<>();
        for (String r : refusals) {
            int i = r.indexOf(": ");
            out.add(i < 0 ? new FieldError("", r) : new FieldError(r.substring(0, i), r.substring(i + 2)));
        }
        return out;
    }
}
