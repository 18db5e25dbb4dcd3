package io.chainmerge.coordinator;

/** Who asked for a change through the API, as a campaign's report and {@code chainmerge.audit} name them. */
record Actor(String principal, String address) {
    @Override
    public String toString() {
        return address == null ? principal : principal + " from " + address;
    }
}
