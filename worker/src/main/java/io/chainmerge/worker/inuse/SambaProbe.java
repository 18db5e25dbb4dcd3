package io.chainmerge.worker.inuse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chainmerge.disk.inuse.InUseHolder;
import io.chainmerge.disk.inuse.InUseProbe;
import io.chainmerge.disk.inuse.ProbeUnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Files of the chain that SMB clients have open through this host's Samba, from {@code smbstatus
 * --json} (Samba 4.16 and later): the client's address, its user, the share, and the access and share
 * mode it opened with. A host where no smbd runs has no SMB clients to see; a Samba whose status cannot
 * be read is a blind spot, and the policy decides.
 */
public final class SambaProbe implements InUseProbe {
    public static final String NAME = "samba";

    private final List<String> command;
    private final Duration timeout;
    private final ObjectMapper json;

    /** {@code configFile}: Samba's smb.conf when it is not the default one, else null. */
    public SambaProbe(Path configFile, Duration timeout, ObjectMapper json) {
        List<String> command = new ArrayList<>(List.of("smbstatus", "--json"));
        if (configFile != null) {
            command.addAll(List.of("--configfile", configFile.toString()));
        }
        this.command = List.copyOf(command);
        this.timeout = timeout;
        this.json = json;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<InUseHolder> holders(List<Path> files) throws IOException {
        if (!smbdRuns()) {
            return List.of(); // no Samba server runs here: no SMB client can have a file open through it
        }
        JsonNode status = ExternalCommand.runForJson(NAME, "smbstatus", command, null, timeout, json);
        if (!status.has("sessions")) {
            // What smbstatus prints when it may not read Samba's state: a header and nothing else.
            throw new ProbeUnavailableException(NAME, "smbstatus listed no sessions at all: " + status);
        }
        return holdersIn(status, files);
    }

    private static List<InUseHolder> holdersIn(JsonNode status, List<Path> files) throws IOException {
        Map<String, JsonNode> sessionsByServer = new HashMap<>();
        for (JsonNode session : status.path("sessions")) {
            sessionsByServer.put(session.path("server_id").path("pid").asText(), session);
        }
        Map<String, Path> wanted = new HashMap<>();
        for (Path file : files) {
            wanted.put(inodeOf(file), file);
        }
        List<InUseHolder> holders = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it =
                        status.path("open_files").fields();
                it.hasNext(); ) {
            JsonNode open = it.next().getValue();
            JsonNode fileId = open.path("fileid");
            Path file = wanted.get(
                    fileId.path("devid").asText() + ":" + fileId.path("inode").asText());
            if (file == null) {
                continue;
            }
            for (JsonNode each : open.path("opens")) {
                JsonNode session =
                        sessionsByServer.get(each.path("server_id").path("pid").asText());
                String client =
                        session == null ? "?" : session.path("remote_machine").asText("?");
                String user = session == null ? "?" : session.path("username").asText("?");
                holders.add(new InUseHolder(
                        NAME,
                        file,
                        "SMB client %s, user %s, share %s, opened for %s, sharing %s"
                                .formatted(
                                        client,
                                        user,
                                        open.path("service_path").asText("?"),
                                        each.path("access_mask").path("text").asText("?"),
                                        each.path("sharemode").path("text").asText("?"))));
            }
        }
        return holders;
    }

    /**
     * Whether a Samba server runs on this host. Asked first because starting smbstatus costs tens of
     * milliseconds a job, more on a busy host, and most hosts serve no SMB.
     */
    private static boolean smbdRuns() {
        return ProcessHandle.allProcesses().anyMatch(process -> process.info()
                .command()
                .map(command -> command.endsWith("/smbd"))
                .orElse(false));
    }

    /** Samba names a file by device and inode, as stat gives them. */
    private static String inodeOf(Path file) throws IOException {
        return Files.getAttribute(file, "unix:dev") + ":" + Files.getAttribute(file, "unix:ino");
    }
}
