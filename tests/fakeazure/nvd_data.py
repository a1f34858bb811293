"""CVE records served by the fake NVD: real CVE ids with their published CVSS v3 scores,
vectors, affected version ranges and publication dates (to the day), trimmed to the fields
enrichment reads plus a short description.

They cover the software the demo tenant runs (AKS Kubernetes 1.26.6, PostgreSQL 11, MySQL 5.7,
Python 3.8, Node.js 14) with a few CVEs outside those versions (to prove range matching), and
Log4j for CISA KEV entries (``cisaExploitAdd``).
"""

from __future__ import annotations

from typing import Any

# vector -> base score, stated once per vector
_HIGH_8_8 = ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8)
_KEV_NOTE = ("Apply mitigations per vendor instructions or discontinue use of the product if mitigations "
             "are unavailable.")

# (id, vendor, product, published, (vector, score), ranges, description[, kev dict])
# a range is (start, start_including, end, end_including); None = unbounded
CVES: list[tuple[Any, ...]] = [
    ("CVE-2023-5528", "kubernetes", "kubernetes", "2023-11-14", _HIGH_8_8,
     [(None, True, "1.25.16", False), ("1.26.0", True, "1.26.11", False), ("1.27.0", True, "1.27.8", False),
      ("1.28.0", True, "1.28.4", False)],
     "A security issue was discovered in Kubernetes where a user that can create pods and persistent volumes on "
     "Windows nodes may be able to escalate to admin privileges on those nodes."),
    ("CVE-2023-3676", "kubernetes", "kubernetes", "2023-10-31", _HIGH_8_8,
     [(None, True, "1.24.17", False), ("1.25.0", True, "1.25.13", False), ("1.26.0", True, "1.26.8", False),
      ("1.27.0", True, "1.27.5", False), ("1.28.0", True, "1.28.1", False)],
     "A security issue was discovered in Kubernetes where a user that can create pods on Windows nodes may be "
     "able to escalate to admin privileges on those nodes."),
    ("CVE-2023-3955", "kubernetes", "kubernetes", "2023-10-31", _HIGH_8_8,
     [(None, True, "1.24.17", False), ("1.25.0", True, "1.25.13", False), ("1.26.0", True, "1.26.8", False),
      ("1.27.0", True, "1.27.5", False), ("1.28.0", True, "1.28.1", False)],
     "A security issue was discovered in Kubernetes where a user that can create pods on Windows nodes may be "
     "able to escalate to admin privileges on those nodes."),
    ("CVE-2024-3177", "kubernetes", "kubernetes", "2024-04-22",
     ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:N/A:N", 2.7),
     [(None, True, "1.27.13", False), ("1.28.0", True, "1.28.9", False), ("1.29.0", True, "1.29.4", False)],
     "A security issue was discovered in Kubernetes where users may be able to launch containers that bypass "
     "the mountable secrets policy enforced by the ServiceAccount admission plugin."),
    # fixed in 1.26.5: must not be reported for 1.26.6
    ("CVE-2023-2431", "kubernetes", "kubernetes", "2023-06-15",
     ("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:L/A:N", 3.6),
     [(None, True, "1.24.14", False), ("1.25.0", True, "1.25.10", False), ("1.26.0", True, "1.26.5", False),
      ("1.27.0", True, "1.27.2", False)],
     "A security issue was discovered in Kubelet that allows pods to bypass the seccomp profile enforcement."),
    ("CVE-2023-5869", "postgresql", "postgresql", "2023-12-10", _HIGH_8_8,
     [("11.0", True, "11.22", False), ("12.0", True, "12.17", False), ("13.0", True, "13.13", False),
      ("14.0", True, "14.10", False), ("15.0", True, "15.5", False), ("16.0", True, "16.1", False)],
     "A flaw was found in PostgreSQL that allows authenticated database users to execute arbitrary code through "
     "missing overflow checks during SQL array value modification."),
    ("CVE-2023-5868", "postgresql", "postgresql", "2023-12-10",
     ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 4.3),
     [("11.0", True, "11.22", False), ("12.0", True, "12.17", False), ("13.0", True, "13.13", False),
      ("14.0", True, "14.10", False), ("15.0", True, "15.5", False), ("16.0", True, "16.1", False)],
     "A memory disclosure vulnerability was found in PostgreSQL that allows remote users to access sensitive "
     "information by exploiting certain aggregate function calls with 'unknown'-type arguments."),
    ("CVE-2023-39417", "postgresql", "postgresql", "2023-08-11", _HIGH_8_8,
     [("11.0", True, "11.21", False), ("12.0", True, "12.16", False), ("13.0", True, "13.12", False),
      ("14.0", True, "14.9", False), ("15.0", True, "15.4", False)],
     "A SQL injection vulnerability was found in PostgreSQL extension scripts that use @extowner@, @extschema@ "
     "or @extschema:...@ inside a quoting construct."),
    ("CVE-2022-2625", "postgresql", "postgresql", "2022-08-18",
     ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H", 8.0),
     [("10.0", True, "10.22", False), ("11.0", True, "11.17", False), ("12.0", True, "12.12", False),
      ("13.0", True, "13.8", False), ("14.0", True, "14.5", False)],
     "A vulnerability was found in PostgreSQL where an extension script could replace objects not belonging "
     "to the extension (CREATE OR REPLACE, CREATE IF NOT EXISTS)."),
    # PostgreSQL 12 and later only: must not be reported for 11
    ("CVE-2024-10979", "postgresql", "postgresql", "2024-11-14", _HIGH_8_8,
     [("12.0", True, "12.21", False), ("13.0", True, "13.17", False), ("14.0", True, "14.14", False),
      ("15.0", True, "15.9", False), ("16.0", True, "16.5", False), ("17.0", True, "17.1", False)],
     "Incorrect control of environment variables in PostgreSQL PL/Perl allows an unprivileged database user "
     "to change sensitive process environment variables."),
    ("CVE-2023-21980", "oracle", "mysql", "2023-04-18",
     ("CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:U/C:H/I:H/A:H", 7.1),
     [("5.7.0", True, "5.7.41", True), ("8.0.0", True, "8.0.32", True)],
     "Vulnerability in the MySQL Server product of Oracle MySQL (component: Client programs)."),
    ("CVE-2023-21912", "oracle", "mysql", "2023-04-18",
     ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
     [("5.7.0", True, "5.7.41", True), ("8.0.0", True, "8.0.30", True)],
     "Vulnerability in the MySQL Server product of Oracle MySQL (component: Server)."),
    ("CVE-2023-22028", "oracle", "mysql", "2023-10-17",
     ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:N/I:N/A:H", 4.9),
     [("5.7.0", True, "5.7.43", True), ("8.0.0", True, "8.0.31", True)],
     "Vulnerability in the MySQL Server product of Oracle MySQL (component: Server: Optimizer)."),
    ("CVE-2023-24329", "python", "python", "2023-02-17",
     ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", 7.5),
     [(None, True, "3.7.17", False), ("3.8.0", True, "3.8.17", False), ("3.9.0", True, "3.9.17", False),
      ("3.10.0", True, "3.10.12", False), ("3.11.0", True, "3.11.4", False)],
     "An issue in the urllib.parse component of Python allows attackers to bypass blocklisting methods by "
     "supplying a URL that starts with blank characters."),
    ("CVE-2022-45061", "python", "python", "2022-11-09",
     ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
     [(None, True, "3.7.16", False), ("3.8.0", True, "3.8.16", False), ("3.9.0", True, "3.9.16", False),
      ("3.10.0", True, "3.10.9", False), ("3.11.0", True, "3.11.1", False)],
     "An unnecessary quadratic algorithm exists in one path when processing some inputs to the IDNA "
     "(RFC 3490) decoder of Python."),
    ("CVE-2020-10735", "python", "python", "2022-09-09",
     ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
     [(None, True, "3.7.14", False), ("3.8.0", True, "3.8.14", False), ("3.9.0", True, "3.9.14", False),
      ("3.10.0", True, "3.10.7", False)],
     "A flaw was found in Python: converting long digit strings with int() in non-binary bases takes "
     "quadratic time, which can be used for denial of service."),
    ("CVE-2022-32212", "nodejs", "node.js", "2022-07-14",
     ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
     [("14.0.0", True, "14.20.0", False), ("16.0.0", True, "16.16.0", False), ("18.0.0", True, "18.5.0", False)],
     "An OS command injection vulnerability exists in Node.js due to an insufficient IsAllowedHost check "
     "that can be bypassed (DNS rebinding in --inspect)."),
    ("CVE-2023-23918", "nodejs", "node.js", "2023-02-23",
     ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),
     [("14.0.0", True, "14.21.3", False), ("16.0.0", True, "16.19.1", False), ("18.0.0", True, "18.14.1", False),
      ("19.0.0", True, "19.6.1", False)],
     "A privilege escalation vulnerability exists in Node.js that made it possible to bypass the experimental "
     "Permissions (policy) feature."),
    ("CVE-2021-22931", "nodejs", "node.js", "2021-08-16",
     ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
     [(None, True, "12.22.5", False), ("14.0.0", True, "14.17.5", False), ("16.0.0", True, "16.6.0", False)],
     "Node.js is vulnerable to remote code execution, XSS and application crashes due to missing input "
     "validation of host names returned by Domain Name Servers in the dns library."),
    ("CVE-2021-44531", "nodejs", "node.js", "2022-02-24",
     ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", 7.4),
     [("12.0.0", True, "12.22.9", False), ("14.0.0", True, "14.18.3", False), ("16.0.0", True, "16.13.2", False),
      ("17.0.0", True, "17.3.1", False)],
     "Accepting arbitrary Subject Alternative Name (SAN) types in Node.js TLS can result in bypassing "
     "name-constrained intermediates."),
    ("CVE-2021-44228", "apache", "log4j", "2021-12-10",
     ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
     [("2.0", True, "2.3.1", False), ("2.4", True, "2.12.2", False), ("2.13.0", True, "2.15.0", False)],
     "Apache Log4j2 JNDI features used in configuration, log messages, and parameters do not protect against "
     "attacker controlled LDAP and other JNDI related endpoints.",
     {"cisaExploitAdd": "2021-12-10", "cisaActionDue": "2021-12-24", "cisaRequiredAction": _KEV_NOTE,
      "cisaVulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability"}),
    ("CVE-2021-45046", "apache", "log4j", "2021-12-14",
     ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H", 9.0),
     [("2.0", True, "2.12.2", False), ("2.13.0", True, "2.16.0", False)],
     "The fix to address CVE-2021-44228 in Apache Log4j 2.15.0 was incomplete in certain non-default "
     "configurations.",
     {"cisaExploitAdd": "2023-05-01", "cisaActionDue": "2023-05-22", "cisaRequiredAction": _KEV_NOTE,
      "cisaVulnerabilityName": "Apache Log4j2 Deserialization of Untrusted Data Vulnerability"}),
]


def records() -> list[dict[str, Any]]:
    """The CVEs as NVD CVE API 2.0 ``vulnerabilities[]`` items."""
    out = []
    for row in CVES:
        cve_id, vendor, product, published, (vector, score), ranges, description = row[:7]
        kev = row[7] if len(row) > 7 else {}
        matches = []
        for n, (start, start_incl, end, end_incl) in enumerate(ranges):
            match: dict[str, Any] = {"vulnerable": True,
                                     "criteria": f"cpe:2.3:a:{vendor}:{product}:*:*:*:*:*:*:*:*",
                                     "matchCriteriaId": f"{cve_id}-{n}"}
            if start is not None:
                match["versionStartIncluding" if start_incl else "versionStartExcluding"] = start
            if end is not None:
                match["versionEndIncluding" if end_incl else "versionEndExcluding"] = end
            matches.append(match)
        severity = ("CRITICAL" if score >= 9 else "HIGH" if score >= 7 else "MEDIUM" if score >= 4
                    else "LOW" if score > 0 else "NONE")
        cve: dict[str, Any] = {
            "id": cve_id,
            "sourceIdentifier": "cve@mitre.org",
            "published": f"{published}T00:00:00.000",
            "lastModified": f"{published}T00:00:00.000",
            "vulnStatus": "Analyzed",
            **kev,
            "descriptions": [{"lang": "en", "value": description}],
            "metrics": {"cvssMetricV31": [{
                "source": "nvd@nist.gov", "type": "Primary",
                "cvssData": {"version": "3.1", "vectorString": vector, "baseScore": score, "baseSeverity": severity},
            }]},
            "configurations": [{"nodes": [{"operator": "OR", "negate": False, "cpeMatch": matches}]}],
            "references": [{"url": f"https://nvd.nist.gov/vuln/detail/{cve_id}", "source": "nvd@nist.gov"}],
        }
        out.append({"cve": cve})
    return out
