package io.virtfleet.reconcilers.lifecycle;

/** Something a decision wants users to know: the operator turns each into a Kubernetes Event on the VM. */
public record Note(Type type, String reason, String message) {
    public enum Type { Normal, Warning }

    public static Note normal(String reason, String message) {
        return new Note(Type.Normal, reason, message);
    }

    public static Note warning(String reason, String message) {
        return new Note(Type.Warning, reason, message);
    }
}
