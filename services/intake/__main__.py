from common.runtime import main
from services.intake.app import SERVICE

main(SERVICE)
