from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from wsgi_sio.django import get_server, user_room


@login_required
def room(request, room="lobby"):
    return render(request, "chat/room.html", {"room": room})


@login_required
@require_POST
def announce(request):
    """Emit from an ordinary view: every client of the echo and chat pages gets it."""
    text = request.POST.get("text", "").strip()
    if not text:
        return HttpResponseBadRequest("empty announcement")
    message = f"{request.user.get_username()}: {text}"
    server = get_server()
    for nsp in ("/echo", "/chat"):
        server.emit("announcement", message, namespace=nsp)
    return redirect(request.POST.get("next") or "chat")


@login_required
@require_POST
def notify(request):
    """Reach a user, not a socket: every page that user has open, on every worker (with
    REDIS_URL), gets the notice; other users get nothing."""
    user = get_user_model().objects.filter(username=request.POST.get("username", "")).first()
    text = request.POST.get("text", "").strip()
    if user is None or not text:
        return HttpResponseBadRequest("no such user, or an empty notice")
    get_server().emit("notice", {"from": request.user.get_username(), "text": text},
                      to=user_room(user), namespace="/chat")
    return redirect(request.POST.get("next") or "chat")
