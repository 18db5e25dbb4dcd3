package io.chainmerge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the monitoring under k8s/monitoring/ asks Prometheus for, and whether a daemon's {@code /metrics} has it:
 * the PromQL of the Grafana dashboard's panels and variables and of the alert rules, read into the metric names
 * and label names each expression uses, checked against the series a scrape holds.
 */
final class PromQueries {
    /** Labels Prometheus adds to every series of a target when it scrapes it; no daemon writes them. */
    static final Set<String> TARGET_LABELS =
            Set.of("job", "instance", "namespace", "pod", "service", "container", "endpoint");
    /** Series Prometheus makes for every target itself. */
    static final Set<String> TARGET_SERIES = Set.of("up");

    private static final Set<String> KEYWORDS = Set.of(
            "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset");
    /** Aggregations may have their grouping between their name and their parenthesis: {@code sum by (pool) (x)}. */
    private static final Set<String> AGGREGATIONS = Set.of(
            "sum",
            "min",
            "max",
            "avg",
            "group",
            "stddev",
            "stdvar",
            "count",
            "count_values",
            "bottomk",
            "topk",
            "quantile",
            "limitk",
            "limit_ratio");

    private static final Set<String> LABEL_LISTS =
            Set.of("by", "without", "on", "ignoring", "group_left", "group_right");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");
    private static final Pattern TOKEN =
            Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*|\\{[^}]*}|\\[[^]]*]|\\(|\\)|[0-9.]+[a-zA-Z]*|\\S");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)");

    /** One expression: the metrics it reads and, for each, the labels it matches on; the labels it groups by. */
    record Query(String where, String expr, Map<String, Set<String>> metrics, Set<String> groupingLabels) {}

    private PromQueries() {}

    /** Every expression of a Grafana dashboard: its panels' targets (rows' panels too) and its query variables. */
    static List<Query> dashboard(Path file) throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(file));
        List<Query> queries = new ArrayList<>();
        List<JsonNode> panels = new ArrayList<>();
        dashboard.path("panels").forEach(panel -> {
            panels.add(panel);
            panel.path("panels").forEach(panels::add);
        });
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                if (target.hasNonNull("expr")) {
                    queries.add(parse(
                            file.getFileName() + " panel \""
                                    + panel.path("title").asText() + "\"",
                            grafanaVariables(target.path("expr").asText())));
                }
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            String query = variable.path("query").isObject()
                    ? variable.path("query").path("query").asText()
                    : variable.path("query").asText();
            Matcher values = Pattern.compile("label_values\\((.*),\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\)")
                    .matcher(query);
            if (variable.path("type").asText().equals("query") && values.matches()) {
                Query q = parse(
                        file.getFileName() + " variable "
                                + variable.path("name").asText(),
                        grafanaVariables(values.group(1)));
                q.groupingLabels().add(values.group(2));
                queries.add(q);
            }
        }
        return queries;
    }

    /** Every alert's (and recording rule's) expression in a PrometheusRule. */
    static List<Query> rules(Path file) throws IOException {
        List<Query> queries = new ArrayList<>();
        List<JsonNode> docs = new YAMLMapper()
                .readerFor(JsonNode.class)
                .<JsonNode>readValues(Files.readString(file))
                .readAll();
        for (JsonNode doc : docs) {
            for (JsonNode group : doc.path("spec").path("groups")) {
                for (JsonNode rule : group.path("rules")) {
                    String name = rule.hasNonNull("alert")
                            ? rule.path("alert").asText()
                            : rule.path("record").asText();
                    queries.add(parse(
                            file.getFileName() + " rule " + name,
                            rule.path("expr").asText()));
                }
            }
        }
        return queries;
    }

    /** Grafana's variables and interval macros stand where PromQL wants a value or a duration. */
    private static String grafanaVariables(String expr) {
        return expr.replace("$__rate_interval", "5m")
                .replace("$__interval", "1m")
                .replace("$__range", "1h");
    }

    static Query parse(String where, String expr) {
        // Strings first: a label value may hold anything, braces and names included.
        String bare = STRING.matcher(expr).replaceAll("\"\"");
        Map<String, Set<String>> metrics = new LinkedHashMap<>();
        Set<String> grouping = new LinkedHashSet<>();
        List<String> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(bare);
        while (m.find()) {
            tokens.add(m.group());
        }
        for (int i = 0; i < tokens.size(); i++) {
            String token = tokens.get(i);
            String next = i + 1 < tokens.size() ? tokens.get(i + 1) : "";
            if (LABEL_LISTS.contains(token) && next.equals("(")) {
                int j = i + 2;
                for (; j < tokens.size() && !tokens.get(j).equals(")"); j++) {
                    if (!tokens.get(j).equals(",")) {
                        grouping.add(tokens.get(j));
                    }
                }
                i = j;
            } else if (token.startsWith("{")) {
                // A selector without a name ({__name__=...}) is not used here; a bare one is a mistake.
                throw new IllegalArgumentException(where + ": a selector without a metric name: " + expr);
            } else if (Character.isLetter(token.charAt(0)) || token.charAt(0) == '_' || token.charAt(0) == ':') {
                if (KEYWORDS.contains(token) || AGGREGATIONS.contains(token) || next.equals("(")) {
                    continue; // a keyword or a function
                }
                Set<String> labels = metrics.computeIfAbsent(token, k -> new TreeSet<>());
                if (next.startsWith("{")) {
                    Matcher matcher = MATCHER.matcher(next);
                    while (matcher.find()) {
                        labels.add(matcher.group(1));
                    }
                    i++;
                }
            }
        }
        return new Query(where, expr, metrics, grouping);
    }

    /** Metric name to the label names its series carry, from Prometheus text as {@code /metrics} serves it. */
    static Map<String, Set<String>> series(String scrape) {
        Map<String, Set<String>> series = new TreeMap<>();
        Pattern line = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+\\S+.*$");
        Pattern label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"(?:[^\"\\\\]|\\\\.)*\"");
        for (String text : scrape.split("\n")) {
            Matcher m = line.matcher(text);
            if (text.startsWith("#") || !m.matches()) {
                continue;
            }
            Set<String> labels = series.computeIfAbsent(m.group(1), k -> new TreeSet<>());
            if (m.group(3) != null) {
                Matcher l = label.matcher(m.group(3));
                while (l.find()) {
                    labels.add(l.group(1));
                }
            }
        }
        return series;
    }

    /** What {@code queries} use that {@code series} lacks, one line each; empty when everything is there. */
    static List<String> missing(List<Query> queries, Map<String, Set<String>> series) {
        List<String> problems = new ArrayList<>();
        for (Query query : queries) {
            Set<String> labelsOfAll = new TreeSet<>(TARGET_LABELS);
            for (Map.Entry<String, Set<String>> metric : query.metrics().entrySet()) {
                String name = metric.getKey();
                if (TARGET_SERIES.contains(name)) {
                    continue;
                }
                Set<String> labels = series.get(name);
                if (labels == null) {
                    problems.add(query.where() + ": no metric " + name + " in " + query.expr());
                    continue;
                }
                labelsOfAll.addAll(labels);
                for (String label : metric.getValue()) {
                    if (!labels.contains(label) && !TARGET_LABELS.contains(label)) {
                        problems.add(query.where() + ": metric " + name + " has no label " + label + " (it has "
                                + labels + ") in " + query.expr());
                    }
                }
            }
            for (String label : query.groupingLabels()) {
                if (!labelsOfAll.contains(label)) {
                    problems.add(query.where() + ": no metric of it has the label " + label + " in " + query.expr());
                }
            }
        }
        return problems;
    }
}
