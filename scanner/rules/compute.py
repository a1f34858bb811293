"""Virtual machine and managed disk rules: SSH password logins, unmanaged (VHD) disks,
customer-managed encryption, endpoint protection agents, automatic OS patching, VMs with a
public IP address that no network security group filters, and VMs no Recovery Services vault
backs up."""

from __future__ import annotations

from typing import Any, Iterable

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.network import VNET_TYPE
from scanner.rules.recoveryservices import VAULT_PROTECTED_VMS, VAULT_TYPE, protected_vms
from scanner.rules.support.base import Evaluation, rule
from scanner.rules.support.helpers import (
    Judgement,
    Resource,
    as_dict,
    child_of,
    flag,
    judge_each_resource,
    unread_child,
    unreadable,
    verdict,
)

VM_TYPE = "Microsoft.Compute/virtualMachines"
DISK_TYPE = "Microsoft.Compute/disks"
each_vm = judge_each_resource(VM_TYPE)

PLATFORM_KEY = "encryptionatrestwithplatformkey"


@rule(
    id="AZ-CMP-001",
    title="Linux VM allows SSH password authentication",
    severity="MEDIUM",
    category="compute",
    description=(
        "The Linux VM was provisioned with password logins enabled for SSH. Passwords can be "
        "guessed or sprayed and reused elsewhere, whereas SSH keys resist brute force."
    ),
    remediation=(
        "Use SSH keys: set `PasswordAuthentication no` in /etc/ssh/sshd_config on the VM and "
        "restart sshd; provision new VMs with key authentication only (`az vm create ... "
        "--authentication-type ssh --ssh-key-values <key.pub>`), which sets "
        "osProfile.linuxConfiguration.disablePasswordAuthentication=true."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.8.5"]},
    needs=Needs(resource_types=frozenset({VM_TYPE})),
)
@each_vm
def linux_password_auth(inv: Inventory, vm: Resource) -> Judgement | None:
    """Judges Linux VMs only; Windows VMs are not yielded.

    A VM attached from a specialised OS disk has no ``osProfile`` at all: when its OS disk says
    Linux the setting is unknowable from ARM, so it is reported as not evaluated.
    """
    vm_props = props(vm)
    os_profile = vm_props.get("osProfile")
    linux = os_profile.get("linuxConfiguration") if isinstance(os_profile, dict) else None
    if isinstance(linux, dict):
        raw = linux.get("disablePasswordAuthentication")
        metadata = {"disablePasswordAuthentication": raw}
        if flag(raw) is True:
            return Judgement(True, "password authentication disabled", metadata)
        if raw is not None:
            return Judgement(False, "SSH password authentication is enabled", metadata)
        return Judgement(False, "disablePasswordAuthentication is not set (passwords allowed)", metadata)
    os_disk = as_dict(as_dict(vm_props.get("storageProfile")).get("osDisk"))
    if os_profile is None and str(os_disk.get("osType") or "").lower() == "linux":
        return Judgement(None, "osProfile not reported (VM created from a specialised disk); "
                               "SSH authentication settings unknown")
    return None


@rule(
    id="AZ-CMP-002",
    title="Managed disk is encrypted only with platform-managed keys",
    severity="MEDIUM",
    category="compute",
    description=(
        "The disk relies solely on Microsoft-managed keys, so the organisation cannot control, "
        "rotate or revoke the key protecting the data, as many compliance regimes require for "
        "sensitive workloads."
    ),
    remediation=(
        "Create a disk encryption set backed by a Key Vault key (`az disk-encryption-set "
        "create ...`), then with the disk detached or its VM deallocated run `az disk update "
        "-g <rg> -n <disk> --encryption-type EncryptionAtRestWithCustomerKey "
        "--disk-encryption-set <des-id>` (or enable Azure Disk Encryption on the VM)."
    ),
    frameworks={"CIS": ["7.3", "7.4"], "NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({DISK_TYPE})),
)
@judge_each_resource(DISK_TYPE)
def disk_platform_key_only(inv: Inventory, disk: Resource) -> Judgement:
    """CIS 7.3 covers attached (OS and data) disks, 7.4 unattached ones: metadata names which."""
    disk_props = props(disk)
    encryption = as_dict(disk_props.get("encryption"))
    enc_type = encryption.get("type")
    ade = flag(as_dict(disk_props.get("encryptionSettingsCollection")).get("enabled"))
    state = disk_props.get("diskState")
    metadata = {
        "encryptionType": enc_type,
        "diskEncryptionSetId": encryption.get("diskEncryptionSetId"),
        "azureDiskEncryption": ade is True,
        "diskState": state,
        "cis": "7.4" if str(state or "").lower() == "unattached" else "7.3",
    }
    platform_only = enc_type is None or str(enc_type).strip().lower() == PLATFORM_KEY
    if platform_only and ade is not True:
        return Judgement(False, f"encryption type {enc_type or 'not reported (platform key)'}", metadata)
    if ade is True:
        return Judgement(True, "Azure Disk Encryption enabled", metadata)
    return Judgement(True, f"encryption type {enc_type}", metadata)


@rule(
    id="AZ-CMP-003",
    title="Virtual machine does not use managed disks",
    severity="MEDIUM",
    category="compute",
    description=(
        "The VM's OS disk is an unmanaged VHD blob in a storage account, so its protection "
        "depends on that account's keys, network rules and encryption settings, and it misses "
        "managed-disk features such as encryption sets and RBAC-scoped access."
    ),
    remediation=(
        "Deallocate the VM and convert it: `az vm deallocate -g <rg> -n <vm>` then `az vm "
        "convert -g <rg> -n <vm>` (portal: Virtual machine > Disks > 'Migrate to managed "
        "disks'); delete the old VHDs and restrict the storage account afterwards."
    ),
    frameworks={"CIS": ["7.2"], "NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({VM_TYPE})),
)
@each_vm
def unmanaged_disks(inv: Inventory, vm: Resource) -> Judgement:
    """Judged on ``storageProfile.osDisk``: ``managedDisk`` present passes, ``vhd`` (or neither)
    fails; a VM whose osDisk is not reported at all is not evaluated."""
    os_disk = as_dict(as_dict(props(vm).get("storageProfile")).get("osDisk"))
    if not os_disk:
        return Judgement(None, "storageProfile.osDisk not reported")
    managed = as_dict(os_disk.get("managedDisk"))
    vhd = as_dict(os_disk.get("vhd")).get("uri")
    metadata = {"managedDisk": bool(managed), "vhd": vhd}
    if managed:
        return Judgement(True, "OS disk is a managed disk", metadata)
    return Judgement(False, f"OS disk is {f'unmanaged VHD {vhd}' if vhd else 'not a managed disk'}", metadata)


VM_EXTENSIONS = ChildSpec(VM_TYPE, "extensions", is_list=True)

# Extensions that put an anti-malware / EDR agent on the VM: Defender for Endpoint (Linux and
# Windows), Microsoft Antimalware, and anything Defender for Servers deploys under its publisher.
ENDPOINT_PROTECTION_TYPES = frozenset({"mde.linux", "mde.windows", "iaasantimalware"})
DEFENDER_FOR_SERVERS_PUBLISHER = "microsoft.azure.azuredefenderforservers"


def _protection_extension(extension: Any) -> str | None:
    """The extension's ``publisher/type`` if it provides endpoint protection, else None."""
    ext_props = props(extension) if isinstance(extension, dict) else {}
    ext_type = str(ext_props.get("type") or "")
    publisher = str(ext_props.get("publisher") or "")
    if ext_type.lower() in ENDPOINT_PROTECTION_TYPES or publisher.lower() == DEFENDER_FOR_SERVERS_PUBLISHER:
        return f"{publisher}/{ext_type}" if publisher else ext_type
    return None


@rule(
    id="AZ-CMP-004",
    title="Virtual machine has no endpoint protection extension",
    severity="MEDIUM",
    category="compute",
    description=(
        "No Defender for Endpoint or Microsoft Antimalware extension is installed on the VM, so "
        "malware and post-exploitation activity on it go undetected and unblocked by the "
        "platform's endpoint protection."
    ),
    remediation=(
        "Enable Microsoft Defender for Servers on the subscription (portal: Microsoft Defender "
        "for Cloud > Environment settings > <subscription> > Servers: On), which deploys the "
        "MDE.Linux / MDE.Windows extension, or install Microsoft Antimalware on Windows: `az vm "
        "extension set -g <rg> --vm-name <vm> --publisher Microsoft.Azure.Security "
        "-n IaaSAntimalware`."
    ),
    frameworks={"CIS": ["7.6"], "NIST": ["DE.CM-4", "PR.PT-1"], "ISO27001": ["A.8.7"]},
    needs=Needs(resource_types=frozenset({VM_TYPE}), children=(VM_EXTENSIONS,)),
)
@each_vm
def vm_without_endpoint_protection(inv: Inventory, vm: Resource) -> Judgement:
    """Judged on the VM's extension list; a list that could not be read is not evaluated (an
    unreadable list must not look like "no agent installed")."""
    extensions = child_of(inv, VM_EXTENSIONS, vm)
    if not isinstance(extensions, list):
        return unread_child(inv, VM_EXTENSIONS, vm, "VM extensions", unknown="not reported")
    installed = [str(props(e).get("type") or "") for e in extensions if isinstance(e, dict)]
    protection = [p for p in map(_protection_extension, extensions) if p]
    metadata = {"extensions": installed, "protection": protection}
    if protection:
        return Judgement(True, f"endpoint protection: {', '.join(protection)}", metadata)
    return Judgement(False, "no Defender for Endpoint or antimalware extension", metadata)


# patch modes in which the platform or the OS installs updates without an operator
WINDOWS_AUTOMATIC_PATCH_MODES = frozenset({"automaticbyplatform", "automaticbyos"})
LINUX_AUTOMATIC_PATCH_MODES = frozenset({"automaticbyplatform"})


@rule(
    id="AZ-CMP-005",
    title="Virtual machine does not patch its operating system automatically",
    severity="LOW",
    category="compute",
    description=(
        "Guest OS updates on the VM depend on someone installing them by hand or on the image's "
        "own defaults, so security fixes can lag for weeks and known vulnerabilities stay "
        "exploitable."
    ),
    remediation=(
        "Turn on automatic guest patching (portal: Virtual machine > Updates > Update settings > "
        "Patch orchestration: Azure Managed - Safe Deployment), e.g. `az vm update -g <rg> -n "
        "<vm> --set osProfile.linuxConfiguration.patchSettings.patchMode=AutomaticByPlatform` "
        "(windowsConfiguration for Windows VMs)."
    ),
    frameworks={"NIST": ["PR.IP-12", "ID.RA-1"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({VM_TYPE})),
)
@each_vm
def vm_without_automatic_patching(inv: Inventory, vm: Resource) -> Judgement:
    """Windows passes with AutomaticByPlatform or AutomaticByOS, Linux only with
    AutomaticByPlatform (its other mode, ImageDefault, leaves patching to the image).

    A Linux VM without ``patchMode`` runs ImageDefault and fails. A Windows VM without it follows
    ``enableAutomaticUpdates`` (AutomaticByOS when on, Manual when off), so it fails only when
    that flag is false and is otherwise not evaluated, as is a VM without ``osProfile``
    (attached from a specialised disk).
    """
    os_profile = props(vm).get("osProfile")
    if not isinstance(os_profile, dict):
        return Judgement(None, "osProfile not reported; patch settings unknown")
    windows = os_profile.get("windowsConfiguration")
    linux = os_profile.get("linuxConfiguration")
    if isinstance(windows, dict):
        config, allowed, os_name = windows, WINDOWS_AUTOMATIC_PATCH_MODES, "Windows"
    elif isinstance(linux, dict):
        config, allowed, os_name = linux, LINUX_AUTOMATIC_PATCH_MODES, "Linux"
    else:
        return Judgement(None, "OS configuration not reported; patch settings unknown")
    mode = as_dict(config.get("patchSettings")).get("patchMode")
    metadata: dict[str, Any] = {"os": os_name, "patchMode": mode}
    if mode is not None:
        return Judgement(str(mode).strip().lower() in allowed, f"{os_name} patch mode {mode}", metadata)
    if os_name == "Linux":
        return Judgement(False, "patchMode not set (Linux default ImageDefault)", metadata)
    if flag(config.get("enableAutomaticUpdates")) is False:
        metadata["enableAutomaticUpdates"] = False
        return Judgement(False, "patchMode not set and automatic updates off", metadata)
    return Judgement(None, "Windows patchMode not reported", metadata)


# --- AZ-CMP-006: a public IP address and no network security group ----------------------------
# Azure filters a NIC's traffic with the NSG on the NIC and the NSG on its subnet; with neither,
# every listening port of a VM with a public address answers the Internet (Standard SKU public
# IPs are closed by default, but Basic ones are open). Deciding this joins three resource types:
# the VM names its NICs, a NIC names its public IP and its subnet, the subnet (inside its virtual
# network) names its NSG.

NIC_TYPE = "Microsoft.Network/networkInterfaces"


def _ref(value: Any) -> str:
    """The lower-cased ``id`` of a ``{"id": ...}`` reference ('' when absent)."""
    return str(as_dict(value).get("id") or "").lower()


def _subnet_nsgs(inv: Inventory) -> dict[str, str]:
    """Lower-cased subnet id -> lower-cased NSG id ('' for a subnet without one)."""
    found: dict[str, str] = {}
    for vnet in inv.of_type(VNET_TYPE):
        for subnet in props(vnet).get("subnets") or []:
            if isinstance(subnet, dict) and subnet.get("id"):
                found[str(subnet["id"]).lower()] = _ref(props(subnet).get("networkSecurityGroup"))
    return found


def _judge_nic(nic: dict[str, Any], subnets: dict[str, str]) -> tuple[bool | None, str]:
    """(exposed?, why) for one NIC: exposed when an IP configuration has a public address and
    neither the NIC nor that configuration's subnet has an NSG."""
    nic_props = props(nic)
    nic_nsg = _ref(nic_props.get("networkSecurityGroup"))
    configs = [c for c in nic_props.get("ipConfigurations") or [] if isinstance(c, dict)]
    unknown = ""
    for config in configs:
        config_props = props(config)
        if not _ref(config_props.get("publicIPAddress")):
            continue
        if nic_nsg:
            return False, ""
        subnet_id = _ref(config_props.get("subnet"))
        if subnet_id not in subnets:
            unknown = f"subnet of NIC '{nic.get('name')}' could not be read"
            continue
        if not subnets[subnet_id]:
            return True, f"NIC '{nic.get('name')}' has a public IP and neither it nor its subnet has an NSG"
    if unknown:
        return None, unknown
    return False, ""


@rule(
    id="AZ-CMP-006",
    title="Virtual machine has a public IP address and no network security group",
    severity="HIGH",
    category="compute",
    description=(
        "A network interface of the VM has a public IP address while neither the interface nor "
        "its subnet has a network security group, so nothing filters Internet traffic to the "
        "VM's listening ports (management, databases, agents)."
    ),
    remediation=(
        "Attach an NSG that allows only the required ports to the NIC or subnet (`az network "
        "nic update -g <rg> -n <nic> --network-security-group <nsg>`), or remove the public IP "
        "and reach the VM through Azure Bastion or a load balancer."
    ),
    frameworks={"NIST": ["PR.AC-5", "PR.PT-4"], "ISO27001": ["A.8.20", "A.8.22"]},
    needs=Needs(resource_types=frozenset({VM_TYPE, NIC_TYPE, VNET_TYPE})),
)
def vm_public_ip_without_nsg(inv: Inventory) -> Iterable[Evaluation]:
    nics = {str(nic.get("id", "")).lower(): nic for nic in inv.of_type(NIC_TYPE)}
    subnets = _subnet_nsgs(inv)
    for vm in inv.of_type(VM_TYPE):
        refs = [_ref(ref) for ref in as_dict(props(vm).get("networkProfile")).get("networkInterfaces") or []]
        refs = [ref for ref in refs if ref]
        if not refs:
            yield verdict(vm, VM_TYPE, None, "network interfaces not reported")
            continue
        exposed: list[str] = []
        unknown: list[str] = []
        for ref in refs:
            nic = nics.get(ref)
            if nic is None:
                unknown.append(f"NIC {ref.rsplit('/', 1)[-1]} could not be read: "
                               f"{inv.unreadable.get(ref, 'not collected')}")
                continue
            result, why = _judge_nic(nic, subnets)
            if result:
                exposed.append(why)
            elif result is None:
                unknown.append(why)
        if exposed:
            yield verdict(vm, VM_TYPE, False, "; ".join(exposed), {"nics": refs})
        elif unknown:
            yield verdict(vm, VM_TYPE, None, "; ".join(unknown), {"nics": refs})
        else:
            yield verdict(vm, VM_TYPE, True, "no public IP without a network security group", {"nics": refs})
    yield from unreadable(inv, VM_TYPE, "virtual machine")


@rule(
    id="AZ-CMP-007",
    title="Virtual machine does not use Trusted Launch with secure boot and vTPM",
    severity="MEDIUM",
    category="compute",
    description=(
        "The VM is a Standard security type VM, or Trusted Launch runs with secure boot or the "
        "virtual TPM off, so boot kits and rootkits can load below the operating system and boot "
        "integrity cannot be measured or attested."
    ),
    remediation=(
        "Portal: Virtual machine > Configuration > Security type = Trusted launch, with 'Secure "
        "boot' and 'vTPM' enabled (Generation 2 images; existing Gen2 VMs can be upgraded while "
        "deallocated), or `az vm update -g <rg> -n <vm> --security-type TrustedLaunch "
        "--enable-secure-boot true --enable-vtpm true`."
    ),
    frameworks={"NIST": ["PR.DS-6", "PR.IP-1"], "ISO27001": ["A.8.9"]},
    needs=Needs(resource_types=frozenset({VM_TYPE})),
)
@each_vm
def trusted_launch(inv: Inventory, vm: Resource) -> Judgement:
    """TrustedLaunch or ConfidentialVM (which includes both protections) with
    ``uefiSettings.secureBootEnabled`` and ``vTpmEnabled`` true."""
    security = as_dict(props(vm).get("securityProfile"))
    kind = security.get("securityType")
    uefi = as_dict(security.get("uefiSettings"))
    metadata = {"securityType": kind, "secureBootEnabled": uefi.get("secureBootEnabled"),
                "vTpmEnabled": uefi.get("vTpmEnabled")}
    if str(kind or "").lower() not in ("trustedlaunch", "confidentialvm"):
        return Judgement(False, f"security type is {kind or 'Standard'}", metadata)
    off = [name for name, key in (("secure boot", "secureBootEnabled"), ("vTPM", "vTpmEnabled"))
           if flag(uefi.get(key)) is not True]
    if off:
        return Judgement(False, f"{kind} without " + " and ".join(off), metadata)
    return Judgement(True, f"{kind} with secure boot and vTPM", metadata)


@rule(
    id="AZ-CMP-008",
    title="Virtual machine does not use encryption at host",
    severity="LOW",
    category="compute",
    description=(
        "Encryption at host is off, so the VM's temporary disk and the caches of its OS and data "
        "disks on the host are not encrypted with the disks' keys; only the persisted disks are."
    ),
    remediation=(
        "Register the EncryptionAtHost feature on the subscription, deallocate the VM, then `az "
        "vm update -g <rg> -n <vm> --set securityProfile.encryptionAtHost=true` (portal: Disks > "
        "Additional settings > Encryption at host)."
    ),
    frameworks={"NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({VM_TYPE})),
)
@each_vm
def encryption_at_host(inv: Inventory, vm: Resource) -> Judgement:
    """Absent ``securityProfile.encryptionAtHost`` is off (the default)."""
    raw = as_dict(props(vm).get("securityProfile")).get("encryptionAtHost")
    metadata = {"encryptionAtHost": raw}
    if flag(raw) is True:
        return Judgement(True, "encryption at host enabled", metadata)
    return Judgement(False, "encryptionAtHost is not true", metadata)


# Backup states that still take new recovery points (IRPending: the first backup is scheduled).
_BACKED_UP_STATES = {"protected", "irpending"}


@rule(
    id="AZ-CMP-009",
    title="Virtual machine is not backed up by a Recovery Services vault",
    severity="MEDIUM",
    category="compute",
    description=(
        "No Recovery Services vault in the subscription protects the VM, or its protection is "
        "stopped, paused or failing, so a deleted or encrypted (ransomware) VM has no recovery "
        "point to restore. Backups kept outside Azure Backup (other tools, other subscriptions' "
        "vaults) are not seen and show as findings to confirm."
    ),
    remediation=(
        "Portal: Virtual machine > Backup > select a Recovery Services vault and a policy > "
        "Enable backup, or `az backup protection enable-for-vm -g <vault rg> -v <vault> "
        "--vm <vm id> --policy-name DefaultPolicy`."
    ),
    frameworks={"NIST": ["PR.IP-4"], "ISO27001": ["A.8.13"]},
    # one paged list per vault (backupProtectedItems, AzureIaasVM items only); nothing per VM
    needs=Needs(resource_types=frozenset({VM_TYPE, VAULT_TYPE}), children=(VAULT_PROTECTED_VMS,)),
)
def vm_backup(inv: Inventory) -> Iterable[Evaluation]:
    """A VM listed in a vault's protected items passes while its ``protectionState`` is
    Protected or IRPending, and fails when stopped, paused, suspended or in error. A VM in no
    list fails, unless some vault's list could not be read: then it may be protected there and
    is not evaluated."""
    index = protected_vms(inv)
    unread_list = [f"{name}: {why}" for name, why in sorted(index.unread_vaults.items())]
    unread = "; ".join(unread_list[:3]) + (f"; and {len(unread_list) - 3} more vaults" if len(unread_list) > 3 else "")
    for vm in inv.of_type(VM_TYPE):
        found = index.items.get(str(vm.get("id", "")).lower())
        if found is not None:
            state, vault = found
            metadata = {"vault": vault, "protectionState": state}
            passed = state.lower() in _BACKED_UP_STATES
            detail = f"backed up by vault {vault} ({state})" if passed else \
                f"backup in vault {vault} is {state}, no new recovery points"
            yield verdict(vm, VM_TYPE, passed, detail, metadata)
        elif unread:
            yield verdict(vm, VM_TYPE, None, f"not in any readable vault; protected items could not be read ({unread})",
                          {"unreadVaults": sorted(index.unread_vaults)})
        else:
            yield verdict(vm, VM_TYPE, False, "no Recovery Services vault protects this VM", {"vault": None})
    yield from unreadable(inv, VM_TYPE, "virtual machine")


@rule(
    id="AZ-CMP-010",
    title="Virtual machine is not checked periodically for missing OS updates",
    severity="LOW",
    category="compute",
    description=(
        "The VM's patch assessment mode (`osProfile.*Configuration.patchSettings.assessmentMode`) "
        "is not AutomaticByPlatform, so Azure Update Manager does not assess it for missing "
        "system and security updates every 24 hours and Defender for Cloud's recommendation "
        "'Machines should be configured to periodically check for missing system updates' "
        "(the built-in policy behind it reads this property) lists it as unhealthy. Absent means "
        "ImageDefault (no periodic assessment). AZ-CMP-005 judges whether updates are installed "
        "automatically; this one whether missing ones are found."
    ),
    remediation=(
        "Enable periodic assessment: portal: Virtual machine > Updates > Update settings > "
        "Periodic assessment = Enable; or `az vm update -g <rg> -n <vm> --set "
        "osProfile.linuxConfiguration.patchSettings.assessmentMode=AutomaticByPlatform` "
        "(windowsConfiguration for Windows VMs); at scale, assign the built-in policy 'Configure "
        "periodic checking for missing system updates on azure virtual machines'."
    ),
    frameworks={"NIST": ["ID.RA-1", "DE.CM-8"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({VM_TYPE})),
)
@each_vm
def vm_without_periodic_update_assessment(inv: Inventory, vm: Resource) -> Judgement:
    """``assessmentMode`` AutomaticByPlatform passes; ImageDefault or absent fails; a VM without
    ``osProfile`` or an OS configuration (attached from a specialised disk) is not evaluated."""
    os_profile = props(vm).get("osProfile")
    if not isinstance(os_profile, dict):
        return Judgement(None, "osProfile not reported; assessment mode unknown")
    config = os_profile.get("windowsConfiguration") or os_profile.get("linuxConfiguration")
    if not isinstance(config, dict):
        return Judgement(None, "OS configuration not reported; assessment mode unknown")
    mode = as_dict(config.get("patchSettings")).get("assessmentMode")
    metadata = {"assessmentMode": mode}
    if str(mode or "").lower() == "automaticbyplatform":
        return Judgement(True, "missing updates are assessed every 24 hours (AutomaticByPlatform)", metadata)
    return Judgement(False, f"no periodic update assessment (assessmentMode {mode or 'not set: ImageDefault'})",
                     metadata)
