from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .forms import AccountDeleteForm, UpgradeCodeForm
from .services import UpgradeCodeInvalid, upgrade_code_redeem, user_delete


def terms(request):
    """The current upload terms (their version is settings.TERMS_VERSION)."""
    return render(request, "legal/terms.html", {"terms_version": settings.TERMS_VERSION})


def privacy(request):
    return render(request, "legal/privacy.html", {"terms_version": settings.TERMS_VERSION})


def plan_facts() -> list[dict]:
    """What each plan gives, read from the settings the product enforces (never hand-written)."""
    facts = []
    for plan, label in (("standard", _("Standard")), ("premium", _("Premium"))):
        low, high = settings.PLAN_PHOTO_LIMITS[plan]
        quota = settings.JOB_QUOTAS[plan]
        facts.append({
            "plan": plan,
            "label": label,
            "photos_min": low,
            "photos_max": high,
            "results": "all" if plan == "premium" else "one",
            "results_max": settings.PREMIUM_MAX_RESULTS if plan == "premium" else None,
            "active": quota["active"],
            "per_hour": quota["per_hour"],
            "visible_label": plan != "premium",
        })
    return facts


def plans(request):
    """The plans page: what Standard and Premium give, and a redeemable upgrade code."""
    form = UpgradeCodeForm()
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        form = UpgradeCodeForm(request.POST)
        if form.is_valid():
            try:
                user = upgrade_code_redeem(user=request.user, code=form.cleaned_data["code"])
            except UpgradeCodeInvalid as exc:
                form.add_error("code", str(exc))
            else:
                messages.success(request, _("Done! Your account is now on the %(plan)s plan.")
                                 % {"plan": user.get_plan_display()})
                return redirect("plans")
        status = 400
    return render(request, "account/plans.html", {"plans": plan_facts(), "form": form}, status=status)


@login_required
def account_delete(request):
    if request.method == "POST":
        form = AccountDeleteForm(request.POST, user=request.user)
        if form.is_valid():
            user = request.user
            logout(request)
            user_delete(user=user)
            messages.success(request, _("Your account and all your photos were deleted."))
            return redirect("home")
    else:
        form = AccountDeleteForm(user=request.user)
    return render(
        request, "account/account_delete.html", {"form": form}, status=400 if request.method == "POST" else 200
    )
