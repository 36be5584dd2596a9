from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .forms import AccountDeleteForm
from .services import user_delete


def terms(request):
    """The current upload terms (their version is settings.TERMS_VERSION)."""
    return render(request, "legal/terms.html", {"terms_version": settings.TERMS_VERSION})


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
