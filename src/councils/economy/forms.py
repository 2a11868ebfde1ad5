"""The economy's forms: what members type on its pages. The rules themselves are checked by ``economy.services``."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from councils.economy.models import Aim, Product

NUMBER = forms.NumberInput(attrs={"step": "any", "min": "0"})
INPUT_PAIR = re.compile(r"^\s*(?P<name>[^=]+?)\s*=\s*(?P<quantity>\S+)\s*$")


def parse_inputs(text: str) -> dict[str, float]:
    """``"flour=0.6; water=0.2"`` -> ``{"flour": 0.6, "water": 0.2}``; raises ValidationError naming the bad part."""
    inputs: dict[str, float] = {}
    for item in (text or "").split(";"):
        if not item.strip():
            continue
        match = INPUT_PAIR.match(item)
        if match is None:
            raise forms.ValidationError(_("“%(strip)s”: write each input as name=quantity, e.g. flour=0.6; water=0.2") % {"strip": item.strip()})
        name = match["name"]
        try:
            quantity = float(match["quantity"].replace(",", "."))
        except ValueError:
            raise forms.ValidationError(_("“%(strip)s”: %(value)s is not a number") % {"strip": item.strip(), "value": match['quantity']}) from None
        if name in inputs:
            raise forms.ValidationError(_("%(name)s is given twice") % {"name": name})
        inputs[name] = quantity
    return inputs


def format_inputs(inputs: dict[int, float], names: dict[int, str]) -> str:
    return "; ".join(f"{names.get(pk, pk)}={quantity:g}" for pk, quantity in inputs.items())


# ----- the federation's page ---------------------------------------------------------------


class CatalogueChangeForm(forms.Form):
    """A delegate proposes to add a product, retire some, or both; member councils decide by their mandates."""

    name = forms.CharField(max_length=100, required=False, label=gettext_lazy("New product's name"))
    unit = forms.CharField(max_length=30, required=False, label=gettext_lazy("Its unit"), help_text=gettext_lazy("kg, loaf, litre, hour of oven time…"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False,
                                  label=gettext_lazy("Its description"))
    retire = forms.ModelMultipleChoiceField(queryset=Product.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple, label=gettext_lazy("Retire these products"))
    title = forms.CharField(max_length=200, required=False, label=gettext_lazy("Title of the proposal"),
                            help_text=gettext_lazy("Left empty, it is named after the change."))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=100_000, required=False,
                           label=gettext_lazy("Why (the text of the proposal)"))

    def __init__(self, *args, catalogue=None, **kwargs):
        super().__init__(*args, **kwargs)
        if catalogue is not None:
            self.fields["retire"].queryset = catalogue

    def change(self) -> dict:
        data = self.cleaned_data
        add = ([{"name": data["name"], "unit": data["unit"], "description": data["description"]}]
               if data["name"] or data["unit"] or data["description"] else [])
        return {"add": add, "retire": [p.pk for p in data["retire"]]}

    # the service's field names (add[0].unit, retire[1]) -> this form's
    @staticmethod
    def field_for(service_field: str | None) -> str | None:
        if not service_field:
            return None
        match = re.fullmatch(r"add\[\d+\]\.(name|unit|description)", service_field)
        if match:
            return match[1]
        if service_field.startswith("retire"):
            return "retire"
        return None


class PlanPeriodForm(forms.Form):
    """A delegate proposes to open a plan period; it opens when the member councils' mandates adopt it."""

    title = forms.CharField(max_length=200, label=gettext_lazy("Title of the period"), help_text=gettext_lazy("e.g. Spring 2030"))
    aim = forms.ChoiceField(choices=Aim.choices, initial=Aim.WEIGHTED, label=gettext_lazy("Aim of the plan"))
    max_rounds = forms.IntegerField(min_value=1, max_value=100, initial=10, label=gettext_lazy("Round limit"),
                                    help_text=gettext_lazy("The most planning rounds before the plan is put to the councils."))
    round_length_hours = forms.FloatField(min_value=0.01, max_value=24 * 60, initial=24, widget=NUMBER,
                                          label=gettext_lazy("Round length (hours)"),
                                          help_text=gettext_lazy("How long councils planning by hand have to revise after each round."))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=100_000, required=False,
                           label=gettext_lazy("Why (the text of the proposal)"))


# ----- a council's page ----------------------------------------------------------------------


class CapabilityForm(forms.Form):
    """One product a workplace can make: labour and capacity, and the inputs it uses per unit."""

    labour = forms.FloatField(min_value=0, widget=NUMBER, label=gettext_lazy("Labour (hours per unit)"))
    capacity = forms.FloatField(min_value=0, widget=NUMBER, label=gettext_lazy("Capacity (units per period)"))
    inputs = forms.CharField(max_length=2000, required=False, label=gettext_lazy("Inputs per unit"),
                             help_text=gettext_lazy("e.g. flour=0.6; water=0.2"))

    def __init__(self, *args, product: Product, form_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.product, self.form_id = product, form_id
        for name, words in (("labour", f"Labour hours per {product.unit} of {product.name}"),
                            ("capacity", f"{product.unit} of {product.name} per period, at most"),
                            ("inputs", f"Inputs per {product.unit} of {product.name}, e.g. flour=0.6; water=0.2")):
            self.fields[name].widget.attrs = {**self.fields[name].widget.attrs, "aria-label": words}
        if form_id:  # the inputs sit in table cells; the form element is in the row's last cell
            for field in self.fields.values():
                field.widget.attrs = {**field.widget.attrs, "form": form_id}

    def clean_inputs(self) -> dict[str, float]:
        return parse_inputs(self.cleaned_data.get("inputs", ""))

    @staticmethod
    def field_for(service_field: str | None) -> str | None:
        if service_field in ("labour", "capacity"):
            return service_field
        if service_field and service_field.startswith("inputs"):
            return "inputs"
        return None


class WorkingHoursForm(forms.Form):
    hours = forms.FloatField(min_value=0, widget=NUMBER, label=gettext_lazy("Hours our members offer to work in a period"))


IMPORT_FORMATS = [("csv", "CSV: product, labour, capacity, inputs"), ("economy", "Economy file (.json or .npz)")]


class CapabilityImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    fmt = forms.ChoiceField(choices=IMPORT_FORMATS, initial="csv", label=gettext_lazy("Format"))


class NeedForm(forms.Form):
    """A line of a neighbourhood council's needs list: a product, how much, and how much it matters."""

    product = forms.ModelChoiceField(queryset=Product.objects.none(), label=gettext_lazy("Product"))
    quantity = forms.FloatField(min_value=0, widget=NUMBER, label=gettext_lazy("Quantity"))
    priority = forms.FloatField(min_value=0, widget=NUMBER, initial=1, required=False, label=gettext_lazy("Priority"),
                                help_text=gettext_lazy("1 is ordinary; 2 counts twice as much when there is not enough for all."))

    def __init__(self, *args, products=None, line=None, form_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products
        self.line = line
        if line is not None:  # a line of the list: its product is fixed (the page sends it beside the form)
            del self.fields["product"]
            self.fields["priority"].help_text = ""
            for name, words in (("quantity", f"Quantity of {line.product.name} ({line.product.unit})"),
                                ("priority", f"Priority of {line.product.name}")):
                self.fields[name].widget.attrs = {**self.fields[name].widget.attrs, "aria-label": words}
        if form_id:
            for field in self.fields.values():
                field.widget.attrs = {**field.widget.attrs, "form": form_id}

    def chosen_product(self) -> Product:
        return self.line.product if self.line is not None else self.cleaned_data["product"]

    def field_for(self, service_field: str | None) -> str | None:
        return service_field if service_field in self.fields else None


# ----- a plan period's page --------------------------------------------------------------------


class HandProposalForm(forms.Form):
    """The planning delegate's own proposal for the council: one quantity per row (production or deliveries)."""

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            top = row["top"]
            self.fields[f"q_{row['key']}"] = forms.FloatField(
                min_value=0, max_value=top, widget=forms.NumberInput(attrs={"step": "any", "min": "0", "max": f"{top:g}"}),
                label=f"{row['name']} ({row['unit']})", initial=f"{row['units']:.10g}",
                help_text=_("at most %(top)s: %(value)s") % {"top": format(top, 'g'), "value": row['limit']})

    def quantities(self) -> dict[str, float]:
        return {name[2:]: value for name, value in self.cleaned_data.items() if name.startswith("q_")}

    def field_for(self, service_field: str | None) -> str | None:
        match = re.fullmatch(r"quantities\[(\d+)\]", service_field or "")
        return f"q_{match[1]}" if match and f"q_{match[1]}" in self.fields else None
