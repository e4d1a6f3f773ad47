// Answers one DNS query from Services and Endpoints, following the Kubernetes DNS-Based Service
// Discovery specification (https://github.com/kubernetes/dns/blob/master/docs/specification.md):
//
//   <svc>.<ns>.svc.<zone>                A     the ClusterIP; for a headless service
//                                             (clusterIP None) every ready endpoint's IP
//   <host>.<svc>.<ns>.svc.<zone>          A     one endpoint of a headless service, <host> its
//                                             hostname or its IP with dashes (10-244-1-5)
//   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV  the named port: target <svc>.<ns>.svc.<zone>,
//                                             or one record per endpoint (headless)
//   <svc>.<ns>.svc.<zone>  (ExternalName) CNAME the external name
//
// Names are matched case-insensitively. A name outside the zone or unknown in it is NXDOMAIN;
// a known name without records of the asked type is NOERROR with no answer (NODATA). Both
// carry the zone's SOA for negative caching (RFC 2308). Nothing is forwarded. Pure.

import type { Endpoints, Service } from "@tug/api";
import { CLASS_IN, type DnsMessage, type DnsRecord, RCODE, RR_TYPE } from "./dns-message.js";

/** CoreDNS's kubernetes plugin answers with TTL 5 s by default. */
export const DEFAULT_DNS_TTL_SECONDS = 5;
/** The cluster's DNS domain (the agent's --cluster-domain). */
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

/** Where the resolver reads Services and Endpoints (an informer cache's getByKey). */
export interface ClusterDnsSource {
  service(namespace: string, name: string): Service | undefined;
  endpoints(namespace: string, name: string): Endpoints | undefined;
}

export interface ResolverOptions {
  zone?: string;
  ttlSeconds?: number;
}

interface Answer {
  rcode: number;
  answers: DnsRecord[];
  additionals: DnsRecord[];
}

function soa(zone: string, ttl: number): DnsRecord {
  return {
    name: zone,
    type: RR_TYPE.SOA,
    class: CLASS_IN,
    ttl,
    data: {
      kind: "soa",
      mname: `ns.dns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 1,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: ttl,
    },
  };
}

function endpointHost(hostname: string, ip: string): string {
  return hostname !== "" ? hostname : ip.replaceAll(".", "-").replaceAll(":", "-");
}

interface EndpointTarget {
  host: string;
  ip: string;
  port: number;
  portName: string;
  protocol: string;
}

function endpointTargets(svc: Service, eps: Endpoints | undefined): EndpointTarget[] {
  const out: EndpointTarget[] = [];
  const includeNotReady = svc.spec?.publishNotReadyAddresses ?? false;
  for (const subset of eps?.subsets ?? []) {
    const addresses = includeNotReady
      ? [...subset.addresses, ...subset.notReadyAddresses]
      : subset.addresses;
    for (const a of addresses) {
      const ports = subset.ports.length > 0 ? subset.ports : [{ name: "", port: 0, protocol: "" }];
      for (const p of ports) {
        out.push({
          host: endpointHost(a.hostname, a.ip),
          ip: a.ip,
          port: p.port,
          portName: p.name,
          protocol: (p.protocol || "TCP").toLowerCase(),
        });
      }
    }
  }
  return out;
}

function addressRecord(name: string, ip: string, ttl: number): DnsRecord {
  return ip.includes(":")
    ? { name, type: RR_TYPE.AAAA, class: CLASS_IN, ttl, data: { kind: "aaaa", address: ip } }
    : { name, type: RR_TYPE.A, class: CLASS_IN, ttl, data: { kind: "a", address: ip } };
}

/** The records for `qname` (already known to be in the zone) split at the zone. */
function lookup(
  qname: string,
  labels: readonly string[],
  qtype: number,
  zone: string,
  ttl: number,
  src: ClusterDnsSource,
): Answer {
  const nx: Answer = { rcode: RCODE.NXDOMAIN, answers: [], additionals: [] };
  const nodata: Answer = { rcode: RCODE.NOERROR, answers: [], additionals: [] };
  // The zone itself and svc.<zone> exist (they hold the services).
  if (labels.length === 0 || (labels.length === 1 && labels[0] === "svc")) return nodata;
  if (labels.at(-1) !== "svc" || labels.length < 3) return nx;
  const ns = labels.at(-2) ?? "";
  const name = labels.at(-3) ?? "";
  const prefix = labels.slice(0, -3);
  const svc = src.service(ns, name);
  if (svc === undefined) return nx;
  const spec = svc.spec;
  const svcName = `${name}.${ns}.svc.${zone}`;
  const headless = spec?.clusterIp === "None";
  const want = (t: number) => qtype === t || qtype === RR_TYPE.ANY;

  if (spec?.type === "ExternalName") {
    if (prefix.length > 0) return nx;
    return {
      rcode: RCODE.NOERROR,
      answers: [
        {
          name: qname,
          type: RR_TYPE.CNAME,
          class: CLASS_IN,
          ttl,
          data: { kind: "name", target: spec.externalName },
        },
      ],
      additionals: [],
    };
  }
  const targets = headless ? endpointTargets(svc, src.endpoints(ns, name)) : [];

  if (prefix.length === 0) {
    const answers: DnsRecord[] = [];
    const additionals: DnsRecord[] = [];
    if (want(RR_TYPE.A) || want(RR_TYPE.AAAA)) {
      const ips = headless
        ? [...new Set(targets.map((t) => t.ip))]
        : spec?.clusterIp
          ? [spec.clusterIp]
          : [];
      for (const ip of ips) {
        const r = addressRecord(qname, ip, ttl);
        if (want(r.type)) answers.push(r);
      }
    }
    if (want(RR_TYPE.SRV)) {
      // SRV at the service name: every named port (CoreDNS's behaviour).
      if (headless) {
        for (const t of targets.filter((t) => t.portName !== "")) {
          const target = `${t.host}.${svcName}`;
          answers.push(srv(qname, ttl, t.port, target));
          additionals.push(addressRecord(target, t.ip, ttl));
        }
      } else {
        for (const p of spec?.ports ?? []) {
          if (p.name !== "") answers.push(srv(qname, ttl, p.port, svcName));
        }
      }
    }
    return { rcode: RCODE.NOERROR, answers, additionals };
  }

  if (prefix.length === 1 && headless) {
    const host = prefix[0] ?? "";
    const hits = targets.filter((t) => t.host.toLowerCase() === host);
    if (hits.length === 0) return nx;
    const answers = [...new Set(hits.map((t) => t.ip))]
      .map((ip) => addressRecord(qname, ip, ttl))
      .filter((r) => want(r.type));
    return { rcode: RCODE.NOERROR, answers, additionals: [] };
  }

  if (prefix.length === 2 && prefix[0]?.startsWith("_") && prefix[1]?.startsWith("_")) {
    const portName = prefix[0].slice(1);
    const proto = prefix[1].slice(1);
    if (headless) {
      const hits = targets.filter(
        (t) => t.portName.toLowerCase() === portName && t.protocol === proto,
      );
      if (hits.length === 0) return nx;
      if (!want(RR_TYPE.SRV)) return nodata;
      return {
        rcode: RCODE.NOERROR,
        answers: hits.map((t) => srv(qname, ttl, t.port, `${t.host}.${svcName}`)),
        additionals: hits.map((t) => addressRecord(`${t.host}.${svcName}`, t.ip, ttl)),
      };
    }
    const port = spec?.ports.find(
      (p) => p.name.toLowerCase() === portName && (p.protocol || "TCP").toLowerCase() === proto,
    );
    if (port === undefined) return nx;
    if (!want(RR_TYPE.SRV)) return nodata;
    const additionals = spec?.clusterIp ? [addressRecord(svcName, spec.clusterIp, ttl)] : [];
    return { rcode: RCODE.NOERROR, answers: [srv(qname, ttl, port.port, svcName)], additionals };
  }
  return nx;
}

function srv(name: string, ttl: number, port: number, target: string): DnsRecord {
  // Kubernetes' spec: priority 0 and weight 100 / n; a single weight spreads evenly too.
  return {
    name,
    type: RR_TYPE.SRV,
    class: CLASS_IN,
    ttl,
    data: { kind: "srv", priority: 0, weight: 100, port, target },
  };
}

/** The response to `query`: authoritative for the zone, no recursion. */
export function answerQuery(
  query: DnsMessage,
  src: ClusterDnsSource,
  options: ResolverOptions = {},
): DnsMessage {
  const zone = (options.zone ?? DEFAULT_CLUSTER_DOMAIN).toLowerCase().replace(/\.$/, "");
  const ttl = options.ttlSeconds ?? DEFAULT_DNS_TTL_SECONDS;
  const base = {
    id: query.id,
    response: true,
    opcode: query.opcode,
    authoritative: false,
    truncated: false,
    recursionDesired: query.recursionDesired,
    recursionAvailable: false,
    questions: query.questions,
    answers: [] as DnsRecord[],
    authorities: [] as DnsRecord[],
    additionals: [] as DnsRecord[],
  };
  if (query.opcode !== 0) return { ...base, rcode: RCODE.NOTIMP };
  const q = query.questions[0];
  if (query.questions.length !== 1 || q === undefined) return { ...base, rcode: RCODE.FORMERR };
  if (q.class !== CLASS_IN) return { ...base, rcode: RCODE.REFUSED };
  const qname = q.name.toLowerCase().replace(/\.$/, "");
  const inZone = qname === zone || qname.endsWith(`.${zone}`);
  if (!inZone) return { ...base, rcode: RCODE.NXDOMAIN };
  const rest = qname === zone ? [] : qname.slice(0, -(zone.length + 1)).split(".");
  const a = lookup(q.name.replace(/\.$/, ""), rest, q.type, zone, ttl, src);
  const negative = a.answers.length === 0;
  return {
    ...base,
    authoritative: true,
    rcode: a.rcode,
    answers: a.answers,
    authorities: negative ? [soa(zone, ttl)] : [],
    additionals: a.additionals,
  };
}
