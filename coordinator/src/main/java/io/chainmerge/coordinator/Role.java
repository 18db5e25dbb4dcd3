package io.chainmerge.coordinator;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.vertx.ext.auth.authorization.Authorization;
import io.vertx.ext.auth.authorization.PermissionBasedAuthorization;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a principal of the coordinator's API may do (docs/security.md, the role table). Each role is a
 * set of {@link Permission}s; every route asks for exactly one permission.
 */
public enum Role {
    /** Reads: campaigns, their reports, the inventory, plans. */
    VIEWER("viewer", EnumSet.of(Permission.READ)),
    /** Submits, cancels, pauses, resumes and approves campaigns; reads. */
    OPERATOR("operator", EnumSet.of(Permission.READ, Permission.OPERATE)),
    /** Posts backup events, only for the CloudEvent source it is bound to; nothing else. */
    BACKUP_SYSTEM("backup-system", EnumSet.of(Permission.POST_BACKUP_EVENTS)),
    /** Everything, backup events for any source included. */
    ADMIN("admin", EnumSet.allOf(Permission.class));

    /** What a route asks of its caller. */
    public enum Permission {
        READ("read"),
        OPERATE("operate"),
        POST_BACKUP_EVENTS("post-backup-events");

        private final String wireName;

        Permission(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }

        /** The Vert.x authorization a route's {@code AuthorizationHandler} checks. */
        Authorization authorization() {
            return PermissionBasedAuthorization.create(wireName);
        }
    }

    private final String wireName;
    private final Set<Permission> permissions;

    Role(String wireName, Set<Permission> permissions) {
        this.wireName = wireName;
        this.permissions = permissions;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }

    public Set<Permission> permissions() {
        return permissions;
    }

    public boolean permits(Permission permission) {
        return permissions.contains(permission);
    }

    @JsonCreator
    public static Role of(String name) {
        String wanted = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values())
                .filter(r -> r.wireName.equals(wanted))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown role \"" + name + "\"; roles are "
                        + Arrays.stream(values()).map(Role::wireName).collect(Collectors.joining(", "))));
    }
}
