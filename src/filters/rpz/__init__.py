"""RPZ export: the published blocklists as Response Policy Zones for carriers' own resolvers
(Unbound, BIND, PowerDNS Recursor), over HTTP as zone files and over DNS by zone transfer."""
