"""The body of API v1's delivery confirmation (api.write_views, confirm_delivery): for a
delivery of a donation form that creates assets, the assets it left behind, one object an
asset, registered by commitments.assets.registry exactly as the portal's page registers
them (the same function, the same refusals). Fields are bounded to their columns; DRF's
CharField refuses NUL bytes. Photos are taken on the page only."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from commitments.assets.models import NAME_MAX, SERIAL_MAX, AssetCondition
from commitments.assets.registry import MAX_ASSETS, AssetEntry
from ksbb.bounds import BIGINT_MAX
from programs.models import AssetOwner


class AssetInSerializer(serializers.Serializer):
    owner_kind = serializers.ChoiceField(
        choices=AssetOwner.choices,
        help_text=_("One of the owners the program allows (see the program's asset_owners)."),
    )
    owner_site = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=BIGINT_MAX,
        help_text=_("For a school owner: the id of the school (a site of the delivery's area)."),
    )
    owner_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=NAME_MAX,
        help_text=_("For a private owner: their name (personal data, shown only to keepers)."),
    )
    serial_number = serializers.CharField(required=False, allow_blank=True, max_length=SERIAL_MAX)
    condition = serializers.ChoiceField(
        choices=AssetCondition.choices, required=False, default=AssetCondition.NEW
    )

    def entry(self, data: dict) -> AssetEntry:
        return AssetEntry(
            owner_kind=data["owner_kind"],
            owner_site_id=data.get("owner_site"),
            owner_name=data.get("owner_name", ""),
            serial_number=data.get("serial_number", ""),
            condition=data.get("condition", AssetCondition.NEW),
        )


class DeliveryConfirmSerializer(serializers.Serializer):
    assets = AssetInSerializer(
        many=True,
        required=False,
        max_length=MAX_ASSETS,
        help_text=_(
            "Only for a delivery of a donation form that creates assets, and required there: "
            "as many assets as the delivery's quantity. All are registered with the receipt, "
            "or none (a 409 with the reason)."
        ),
    )

    def entries(self) -> list[AssetEntry]:
        child = self.fields["assets"].child
        return [child.entry(item) for item in self.validated_data.get("assets") or []]
