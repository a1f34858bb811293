"""AZ-CMP-001 (Linux SSH password auth), AZ-CMP-002 (platform-key-only disks), AZ-CMP-003
(unmanaged disks), AZ-CMP-004 (endpoint protection extension), AZ-CMP-005 (automatic patching), AZ-CMP-010 (periodic update assessment)."""

from __future__ import annotations

import pytest

from scanner.inventory import Inventory
from scanner.rules.compute import DISK_TYPE, VM_EXTENSIONS, VM_TYPE
from tests.rules.builders import Resource, arm, fail_resource, inventory, only, run, with_child
from tests.rules.builders import with_failed_child, with_unreadable


def linux_vm(name: str = "vm1", **linux_config: object) -> Resource:
    return arm(
        VM_TYPE,
        name,
        {
            "osProfile": {
                "computerName": name,
                "adminUsername": "azureuser",
                "linuxConfiguration": dict(linux_config),
            },
            "storageProfile": {"osDisk": {"osType": "Linux"}},
        },
    )


def test_cmp001_password_auth_enabled_fails() -> None:
    result = only("AZ-CMP-001", inventory(linux_vm(disablePasswordAuthentication=False)))
    assert result.passed is False
    assert result.resource_type == VM_TYPE
    assert result.metadata == {"disablePasswordAuthentication": False}


def test_cmp001_absent_flag_fails() -> None:
    result = only("AZ-CMP-001", inventory(linux_vm(provisionVMAgent=True)))
    assert result.passed is False
    assert "not set" in result.detail


def test_cmp001_keys_only_passes() -> None:
    assert (
        only("AZ-CMP-001", inventory(linux_vm(disablePasswordAuthentication=True))).passed is True
    )


def test_cmp001_windows_vm_not_judged() -> None:
    windows = arm(
        VM_TYPE,
        "win",
        {
            "osProfile": {"windowsConfiguration": {"provisionVMAgent": True}},
            "storageProfile": {"osDisk": {"osType": "Windows"}},
        },
    )
    assert run("AZ-CMP-001", inventory(windows)) == []


def test_cmp001_specialised_linux_disk_is_not_evaluated() -> None:
    attached = arm(VM_TYPE, "attached", {"storageProfile": {"osDisk": {"osType": "Linux"}}})
    result = only("AZ-CMP-001", inventory(attached))
    assert result.passed is None
    assert "osProfile" in result.detail


def test_cmp001_tolerates_missing_properties() -> None:
    assert run("AZ-CMP-001", inventory(arm(VM_TYPE, "bare"))) == []


def test_cmp001_unreadable_vm_is_not_evaluated() -> None:
    inv = with_unreadable(VM_TYPE, "locked", "403")
    assert only("AZ-CMP-001", inv).passed is None


def disk(name: str = "disk1", **properties: object) -> Resource:
    return arm(DISK_TYPE, name, dict(properties))


def test_cmp002_platform_key_fails() -> None:
    d = disk(encryption={"type": "EncryptionAtRestWithPlatformKey"}, diskState="Attached")
    result = only("AZ-CMP-002", inventory(d))
    assert result.passed is False
    assert result.metadata["cis"] == "7.3"
    assert "EncryptionAtRestWithPlatformKey" in result.detail


def test_cmp002_unattached_disk_maps_to_cis_74() -> None:
    d = disk(encryption={"type": "EncryptionAtRestWithPlatformKey"}, diskState="Unattached")
    assert only("AZ-CMP-002", inventory(d)).metadata["cis"] == "7.4"


def test_cmp002_absent_encryption_is_platform_key() -> None:
    assert only("AZ-CMP-002", inventory(disk(diskSizeGB=32))).passed is False


@pytest.mark.parametrize(
    "enc_type", ["EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys"]
)
def test_cmp002_customer_key_passes(enc_type: str) -> None:
    d = disk(encryption={"type": enc_type, "diskEncryptionSetId": "/subscriptions/x/des/1"})
    assert only("AZ-CMP-002", inventory(d)).passed is True


def test_cmp002_azure_disk_encryption_passes() -> None:
    d = disk(
        encryption={"type": "EncryptionAtRestWithPlatformKey"},
        encryptionSettingsCollection={"enabled": True, "encryptionSettings": []},
    )
    result = only("AZ-CMP-002", inventory(d))
    assert result.passed is True
    assert result.metadata["azureDiskEncryption"] is True


def test_cmp002_tolerates_missing_properties_and_unreadable_disks() -> None:
    inv = inventory(arm(DISK_TYPE, "bare"))
    fail_resource(inv, DISK_TYPE, "locked", "403")
    verdicts = sorted((r.resource_name, r.passed) for r in run("AZ-CMP-002", inv))
    assert verdicts == [("bare", False), ("locked", None)]


def vm_with_os_disk(os_disk: object) -> Resource:
    return arm(VM_TYPE, "vm1", {"storageProfile": {"osDisk": os_disk, "dataDisks": []}})


def test_cmp003_unmanaged_vhd_fails() -> None:
    vhd = "https://stvhds.blob.core.windows.net/vhds/vm1-os.vhd"
    result = only("AZ-CMP-003", inventory(vm_with_os_disk(
        {"osType": "Linux", "name": "vm1-os", "vhd": {"uri": vhd}, "createOption": "FromImage"})))
    assert result.passed is False
    assert vhd in result.detail
    assert result.metadata == {"managedDisk": False, "vhd": vhd}


def test_cmp003_managed_disk_passes() -> None:
    os_disk = {"osType": "Linux", "managedDisk": {"id": "/x/disks/d", "storageAccountType": "Premium_LRS"}}
    assert only("AZ-CMP-003", inventory(vm_with_os_disk(os_disk))).passed is True


def test_cmp003_os_disk_without_managed_disk_fails() -> None:
    assert only("AZ-CMP-003", inventory(vm_with_os_disk({"osType": "Windows"}))).passed is False


@pytest.mark.parametrize("properties", [{}, {"storageProfile": {}}, {"storageProfile": {"osDisk": None}}])
def test_cmp003_os_disk_not_reported_is_not_evaluated(properties: dict[str, object]) -> None:
    result = only("AZ-CMP-003", inventory(arm(VM_TYPE, "vm1", properties)))
    assert result.passed is None
    assert "not reported" in result.detail


def test_cmp003_unreadable_vm_is_not_evaluated() -> None:
    inv = inventory()
    rid = fail_resource(inv, VM_TYPE, "locked", "403")
    result = only("AZ-CMP-003", inv)
    assert (result.resource_id, result.passed) == (rid, None)


# --- AZ-CMP-004 endpoint protection, AZ-CMP-005 automatic patching ----------------------------


def extension(publisher: str, ext_type: str) -> Resource:
    return {
        "name": ext_type,
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "properties": {"publisher": publisher, "type": ext_type, "provisioningState": "Succeeded"},
    }


def vm_with_extensions(*extensions: Resource) -> tuple[Resource, Inventory]:
    vm = linux_vm("vm-ext")
    inv = with_child(vm, VM_EXTENSIONS, list(extensions))
    return vm, inv


@pytest.mark.parametrize(
    "ext",
    [
        extension("Microsoft.Azure.AzureDefenderForServers", "MDE.Linux"),
        extension("Microsoft.Azure.AzureDefenderForServers", "MDE.Windows"),
        extension("Microsoft.Azure.Security", "IaaSAntimalware"),
        extension("Microsoft.Azure.AzureDefenderForServers", "SomethingNew"),
    ],
)
def test_cmp004_protection_extension_passes(ext: Resource) -> None:
    _, inv = vm_with_extensions(extension("Microsoft.Azure.Monitor", "AzureMonitorLinuxAgent"), ext)
    result = only("AZ-CMP-004", inv)
    assert result.passed is True
    assert result.metadata["protection"]


@pytest.mark.parametrize("extensions", [[], [extension("Microsoft.Azure.Monitor", "AzureMonitorLinuxAgent")]])
def test_cmp004_no_protection_extension_fails(extensions: list[Resource]) -> None:
    _, inv = vm_with_extensions(*extensions)
    result = only("AZ-CMP-004", inv)
    assert result.passed is False
    assert result.metadata["protection"] == []


def test_cmp004_unreadable_extensions_are_not_evaluated() -> None:
    inv = with_failed_child(linux_vm("vm-ext"), VM_EXTENSIONS, "403 AuthorizationFailed")
    result = only("AZ-CMP-004", inv)
    assert result.passed is None
    assert "403" in result.detail
    # never collected at all (absent payload) is not evaluated either
    assert only("AZ-CMP-004", inventory(linux_vm("other"))).passed is None


def test_cmp004_unreadable_vm_is_not_evaluated() -> None:
    inv = with_unreadable(VM_TYPE, "locked", "403")
    assert only("AZ-CMP-004", inv).passed is None


def test_cmp004_declares_the_extensions_child() -> None:
    from scanner.azure.api_versions import child_api_version
    from scanner.rules.support.base import REGISTRY

    assert REGISTRY["AZ-CMP-004"].needs.children == (VM_EXTENSIONS,)
    assert VM_EXTENSIONS.is_list and child_api_version(VM_EXTENSIONS) == "2024-07-01"


def patched_vm(os_config: str, **config: object) -> Resource:
    return arm(VM_TYPE, "vm-patch", {"osProfile": {os_config: dict(config)}})


@pytest.mark.parametrize(
    ("os_config", "mode", "passed"),
    [
        ("linuxConfiguration", "AutomaticByPlatform", True),
        ("linuxConfiguration", "ImageDefault", False),
        ("windowsConfiguration", "AutomaticByPlatform", True),
        ("windowsConfiguration", "AutomaticByOS", True),
        ("windowsConfiguration", "Manual", False),
    ],
)
def test_cmp005_patch_modes(os_config: str, mode: str, passed: bool) -> None:
    result = only("AZ-CMP-005", inventory(patched_vm(os_config, patchSettings={"patchMode": mode})))
    assert result.passed is passed
    assert result.metadata["patchMode"] == mode


def test_cmp005_linux_absent_patch_mode_fails_as_image_default() -> None:
    result = only("AZ-CMP-005", inventory(patched_vm("linuxConfiguration", provisionVMAgent=True)))
    assert result.passed is False
    assert "ImageDefault" in result.detail


def test_cmp005_windows_absent_patch_mode() -> None:
    off = patched_vm("windowsConfiguration", enableAutomaticUpdates=False)
    assert only("AZ-CMP-005", inventory(off)).passed is False
    unknown = patched_vm("windowsConfiguration", enableAutomaticUpdates=True)
    assert only("AZ-CMP-005", inventory(unknown)).passed is None


def test_cmp005_absent_os_profile_is_not_evaluated() -> None:
    attached = arm(VM_TYPE, "attached", {"storageProfile": {"osDisk": {"osType": "Linux"}}})
    result = only("AZ-CMP-005", inventory(attached))
    assert result.passed is None
    assert "osProfile" in result.detail
    assert only("AZ-CMP-005", inventory(arm(VM_TYPE, "no-os", {"osProfile": {}}))).passed is None


def test_cmp005_unreadable_vm_is_not_evaluated() -> None:
    inv = with_unreadable(VM_TYPE, "locked", "403")
    assert only("AZ-CMP-005", inv).passed is None


# --- AZ-CMP-006: public IP without any NSG --------------------------------------------------------

def _exposure_inventory(*, nic_nsg: bool, subnet_nsg: bool, public: bool = True, vnet: bool = True):
    from scanner.rules.network import VNET_TYPE
    from scanner.rules.compute import NIC_TYPE

    nsg_ref = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n"}
    net = arm(VNET_TYPE, "vnet1", {"subnets": [{
        "id": arm(VNET_TYPE, "vnet1")["id"] + "/subnets/default", "name": "default",
        "properties": {"networkSecurityGroup": nsg_ref} if subnet_nsg else {}}]})
    ipconf: dict = {"subnet": {"id": net["id"] + "/subnets/default"}}
    if public:
        ipconf["publicIPAddress"] = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/p"}
    nic_props: dict = {"ipConfigurations": [{"name": "ipconfig1", "properties": ipconf}]}
    if nic_nsg:
        nic_props["networkSecurityGroup"] = nsg_ref
    nic = arm(NIC_TYPE, "nic1", nic_props)
    vm = arm(VM_TYPE, "vm1", {"networkProfile": {"networkInterfaces": [{"id": nic["id"]}]}})
    return inventory(vm, nic, *([net] if vnet else []))


def test_cmp006_public_ip_without_any_nsg_fails() -> None:
    result = only("AZ-CMP-006", _exposure_inventory(nic_nsg=False, subnet_nsg=False))
    assert result.passed is False and "'nic1' has a public IP" in result.detail


@pytest.mark.parametrize("kw", [
    {"nic_nsg": True, "subnet_nsg": False},
    {"nic_nsg": False, "subnet_nsg": True},
    {"nic_nsg": False, "subnet_nsg": False, "public": False},
])
def test_cmp006_filtered_or_private_vm_passes(kw: dict) -> None:
    assert only("AZ-CMP-006", _exposure_inventory(**kw)).passed is True


def test_cmp006_unreadable_nic_or_subnet_is_not_evaluated() -> None:
    from scanner.rules.compute import NIC_TYPE

    no_subnet = only("AZ-CMP-006", _exposure_inventory(nic_nsg=False, subnet_nsg=False, vnet=False))
    assert no_subnet.passed is None and "subnet" in no_subnet.detail
    inv = inventory(arm(VM_TYPE, "vm2", {"networkProfile": {"networkInterfaces": [
        {"id": arm(NIC_TYPE, "hidden-nic")["id"]}]}}))
    fail_resource(inv, NIC_TYPE, "hidden-nic", "HTTP 403 AuthorizationFailed")
    result = only("AZ-CMP-006", inv)
    assert result.passed is None and "403" in result.detail


# --- AZ-CMP-007 (Trusted Launch), AZ-CMP-008 (encryption at host) -------------------------------


_TL = {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}


@pytest.mark.parametrize(("security", "passed", "detail"), [
    (None, False, "security type is Standard"),
    ({"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": False, "vTpmEnabled": True}}, False,
     "TrustedLaunch without secure boot"),
    (_TL, True, "TrustedLaunch with secure boot and vTPM"),
])
def test_cmp007_trusted_launch(security: dict[str, object] | None, passed: bool, detail: str) -> None:
    properties = {} if security is None else {"securityProfile": security}
    result = only("AZ-CMP-007", inventory(arm("Microsoft.Compute/virtualMachines", "vm1", properties)))
    assert (result.passed, result.detail) == (passed, detail)


@pytest.mark.parametrize(("security", "passed"), [({}, False), ({"encryptionAtHost": False}, False),
                                                  ({"encryptionAtHost": True}, True)])
def test_cmp008_encryption_at_host(security: dict[str, object], passed: bool) -> None:
    vm = arm("Microsoft.Compute/virtualMachines", "vm1", {"securityProfile": security})
    assert only("AZ-CMP-008", inventory(vm)).passed is passed


@pytest.mark.parametrize("rule_id", ["AZ-CMP-007", "AZ-CMP-008"])
def test_cmp007_008_unreadable_vm(rule_id: str) -> None:
    inv = inventory()
    fail_resource(inv, "Microsoft.Compute/virtualMachines", "vm-locked", "HTTP 403")
    assert only(rule_id, inv).passed is None


# --- AZ-CMP-010 periodic assessment for missing updates ------------------------------------------
@pytest.mark.parametrize(("os_config", "settings", "passed"), [
    ("linuxConfiguration", {"patchMode": "ImageDefault", "assessmentMode": "AutomaticByPlatform"}, True),
    ("windowsConfiguration", {"patchMode": "AutomaticByOS", "assessmentMode": "AutomaticByPlatform"}, True),
    ("linuxConfiguration", {"patchMode": "AutomaticByPlatform", "assessmentMode": "ImageDefault"}, False),
    ("windowsConfiguration", {"patchMode": "AutomaticByOS"}, False),  # absent: ImageDefault
])
def test_cmp010_assessment_mode(os_config: str, settings: dict[str, str], passed: bool) -> None:
    assert only("AZ-CMP-010", inventory(patched_vm(os_config, patchSettings=settings))).passed is passed


def test_cmp010_unknown_os_profile_and_unreadable_vm_not_evaluated() -> None:
    assert only("AZ-CMP-010", inventory(arm(VM_TYPE, "vm-specialised", {"storageProfile": {}}))).passed is None
    locked = with_unreadable(VM_TYPE, "locked", "HTTP 403 AuthorizationFailed")
    assert [(r.passed, r.detail) for r in run("AZ-CMP-010", locked)] == [
        (None, "resource could not be read: HTTP 403 AuthorizationFailed")]
