package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.coordinator.Role.Permission;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The role table of docs/security.md, as the code has it. */
class RoleTest {
    @Test
    void eachRoleGrantsExactlyWhatTheTableSays() {
        Map<Role, Set<Permission>> table =
                Arrays.stream(Role.values()).collect(Collectors.toMap(r -> r, Role::permissions));
        assertThat(table)
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        Role.VIEWER, Set.of(Permission.READ),
                        Role.OPERATOR, Set.of(Permission.READ, Permission.OPERATE),
                        Role.BACKUP_SYSTEM, Set.of(Permission.POST_BACKUP_EVENTS),
                        Role.ADMIN, Set.of(Permission.READ, Permission.OPERATE, Permission.POST_BACKUP_EVENTS)));
    }

    @Test
    void aViewerCannotChangeAnythingAndABackupSystemCannotRead() {
        assertThat(Role.VIEWER.permits(Permission.OPERATE)).isFalse();
        assertThat(Role.VIEWER.permits(Permission.POST_BACKUP_EVENTS)).isFalse();
        assertThat(Role.OPERATOR.permits(Permission.POST_BACKUP_EVENTS)).isFalse();
        assertThat(Role.BACKUP_SYSTEM.permits(Permission.READ)).isFalse();
    }

    @Test
    void rolesAreReadByTheirWireNamesAndAnUnknownOneIsRefusedWithTheList() {
        assertThat(Role.of(" Backup-System ")).isEqualTo(Role.BACKUP_SYSTEM);
        assertThat(Role.of("admin")).isEqualTo(Role.ADMIN);
        assertThatThrownBy(() -> Role.of("root"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown role \"root\"")
                .hasMessageContaining("viewer, operator, backup-system, admin");
    }
}
