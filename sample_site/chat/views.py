from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from wsgi_sio.django import get_server


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
